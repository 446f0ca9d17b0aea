#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
    case untilClose
}
