#if canImport(Glibc)
import Glibc
#endif

/// The sanitizer this test binary was built with (`swift test --sanitize=…`), found by its runtime's symbols.
public enum Sanitizer {
    public static let active: String? = {
        #if canImport(Glibc)
        if dlsym(nil, "__tsan_init") != nil { return "thread" }
        if dlsym(nil, "__asan_init") != nil { return "address" }
        #endif
        return nil
    }()

    /// For tests of malloc's own behaviour, which the sanitizers' allocators replace.
    public static var replacesMalloc: Bool { active != nil }
}
