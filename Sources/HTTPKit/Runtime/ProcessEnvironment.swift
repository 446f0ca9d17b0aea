#if canImport(Glibc)
@preconcurrency import Glibc
#endif

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

extension Request {
    /// A path parameter that must be a plain decimal number (`0`, `42`): no sign, no hex, no suffix; else 400.
    public func decimalParameter(_ name: String, message: String) throws -> Int {
        let text = try parameter(name)
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text) else {
            throw HTTPError(.badRequest, message)
        }
        return value
    }
}
