@testable import HTTPKit

/// The JSON parser over any bytes: a value that parses serialises, compact and spaced, to text that parses to an
/// equal value; its strings quoted alone parse back to themselves.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    guard let value = try? JSON.parse(input.bytes, maxDepth: 32) else { return 0 }
    for style in [JSON.Style.compact, .spaced] {
        let text = value.bytes(style)
        let again = try? JSON.parse(text, maxDepth: 32)
        require(
            again == value,
            "\(style) text \(String(decoding: text, as: UTF8.self)) parsed as \(String(describing: again))")
    }
    for string in strings(in: value) {
        let quoted = JSON.quoted(string)
        require((try? JSON.parse(quoted)) == .string(string), "\(quoted) does not parse back")
    }
    return 0
}

private func strings(in value: JSON) -> [String] {
    switch value {
    case .string(let s): return [s]
    case .array(let items): return items.flatMap(strings)
    case .object(let members): return members.flatMap { [$0.0] + strings(in: $0.1) }
    default: return []
    }
}
