@testable import HTTPKit

/// The field-by-field JSON reader against the parser: it accepts exactly the texts the parser accepts, whether the
/// callback reads nothing, reads the whole value, or walks it member by member; and what it reads equals the tree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let tree = try? JSON.parse(input.bytes, maxDepth: 16)
    let skipped: Void? = try? JSON.read(input.bytes, maxDepth: 16) { _ in }
    require((skipped != nil) == (tree != nil), "reader skipping accepts \(skipped != nil), parser \(tree != nil)")
    let read = try? JSON.read(input.bytes, maxDepth: 16) { try $0.readValue() }
    require(read == tree, "readValue gave \(String(describing: read)), parse \(String(describing: tree))")
    let walked = try? JSON.read(input.bytes, maxDepth: 16) { try walk(&$0) }
    require(walked == tree, "walking gave \(String(describing: walked)), parse \(String(describing: tree))")
    // A reader that stops after the first member or element still checks the rest.
    let partial: Void? = try? JSON.read(input.bytes, maxDepth: 16) { try firstOnly(&$0) }
    require((partial != nil) == (tree != nil), "reading one member accepts \(partial != nil), parser \(tree != nil)")
    return 0
}

/// The value at the cursor rebuilt with readObject, readArray and readString.
private func walk(_ reader: inout JSONReader) throws -> JSON {
    let index = reader.parser.index
    guard index < reader.parser.bytes.count else { return try reader.readValue() }
    switch reader.parser.bytes[index] {
    case UInt8(ascii: "{"):
        var members: [(String, JSON)] = []
        try reader.readObject { name, reader in members.append((name.string, try walk(&reader))) }
        return .object(members)
    case UInt8(ascii: "["):
        var items: [JSON] = []
        try reader.readArray { _, reader in items.append(try walk(&reader)) }
        return .array(items)
    case UInt8(ascii: "\""):
        return .string(try reader.readString())
    default:
        return try reader.readValue()
    }
}

private func firstOnly(_ reader: inout JSONReader) throws {
    let index = reader.parser.index
    guard index < reader.parser.bytes.count else { return }
    switch reader.parser.bytes[index] {
    case UInt8(ascii: "{"):
        try reader.readObject { name, reader in if name == "id" { _ = try reader.readValue() } }
    case UInt8(ascii: "["):
        try reader.readArray { index, reader in if index == 0 { _ = try reader.readValue() } }
    default:
        return
    }
}
