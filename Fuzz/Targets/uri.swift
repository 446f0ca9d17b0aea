@testable import HTTPKit

/// Percent-decoding, target splitting and form parsing over any text. What decodes, encoded again, decodes to
/// itself, and the encoding holds only unreserved characters and escapes; a target's path and query put back
/// together give the target; form pairs encoded again parse to the same pairs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzURI(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let text = input.text
    for plus in [false, true] {
        guard let decoded = URI.percentDecode(text, plusAsSpace: plus) else { continue }
        let encoded = URI.percentEncode(decoded)
        require(
            encoded.utf8.allSatisfy { URI.isUnreserved($0) || $0 == UInt8(ascii: "%") || hexValue($0) != nil },
            "\(encoded) holds a reserved character")
        require(URI.percentDecode(encoded, plusAsSpace: plus) == decoded, "\(encoded) does not decode to \(decoded)")
    }
    if text.hasPrefix("/") {
        let (path, query) = URI.split(target: text)
        let joined = text.utf8.contains(UInt8(ascii: "?")) ? path + "?" + query : path
        require(joined == text, "split \(text) into \(path) and \(query)")
    }
    let pairs = URI.parseForm(text)
    let form = pairs.map { URI.percentEncode($0.0) + "=" + URI.percentEncode($0.1) }.joined(separator: "&")
    let again = URI.parseForm(form)
    require(again.map { [$0.0, $0.1] } == pairs.map { [$0.0, $0.1] }, "\(form) parses to \(again), not \(pairs)")
    return 0
}
