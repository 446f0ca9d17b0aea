#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// The process's arguments and environment, read without Foundation.
public enum ProcessEnvironment {
    public static var arguments: [String] { Array(CommandLine.arguments.dropFirst()) }

    public static var environment: [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            cursor += 1
        }
        return result
    }

    /// Runs a service definition as this process and exits with its status.
    public static func run(_ definition: ServiceRunner.Definition) -> Never {
        exit(ServiceRunner.main(definition, arguments: arguments, environment: environment))
    }
}
