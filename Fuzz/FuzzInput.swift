/// One fuzzer input: its bytes, and choices derived from them (a split point, a flag), so that seed files stay the
/// plain protocol text they test and every mutation also moves the choices.
struct FuzzInput {
    let bytes: [UInt8]
    private let hash: UInt64

    init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = h
    }

    /// A number in `0..<count` (0 when `count` is 0); `salt` picks an independent choice.
    func choice(_ count: Int, salt: UInt64 = 0) -> Int {
        guard count > 0 else { return 0 }
        var h = hash ^ (salt &* 0x9e37_79b9_7f4a_7c15)
        h ^= h >> 31
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 29
        return Int(h % UInt64(count))
    }

    /// A point to split the input at: `bytes[..<point]` and `bytes[point...]`.
    var splitPoint: Int { choice(bytes.count + 1, salt: 1) }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Stops the run with a message libFuzzer keeps beside the input: a property that must hold did not.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("property failed: \(message())") }
}
