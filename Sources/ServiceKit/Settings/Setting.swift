#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// One setting of a service: an environment variable with a default, a description and a type.
public struct Setting: Sendable {
    public enum Kind: Sendable {
        case string
        /// A non-empty string.
        case required
        case integer(ClosedRange<Int>)
        case boolean
        /// Seconds: `3`, `2.5`, `250ms`, `10s`, `5m`, `1h`.
        case duration
        case oneOf([String])
        case port
        /// A numeric IP address to listen on: `::`, `0.0.0.0`, `127.0.0.1`, `::1`.
        case address
        /// A number such as 0.5, within the range.
        case decimal(ClosedRange<Double>)
        /// Empty, or a value of the inner kind.
        indirect case optional(Kind)
    }

    public let name: String
    public let defaultValue: String
    public let help: String
    public let kind: Kind
    /// A key or password: its value is never shown, only whether it is set (start-up line, `--help`, errors).
    public let isSecret: Bool

    public init(_ name: String, _ defaultValue: String, _ help: String, _ kind: Kind = .string, secret: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
        self.kind = kind
        isSecret = secret
    }

    /// What may be shown of a value: the value itself, or for a secret whether it is set.
    func shown(_ value: String) -> String {
        guard isSecret else { return value }
        if value.isEmpty { return "unset" }
        return value == defaultValue ? "built-in default" : "set"
    }

    func validate(_ value: String) -> String? { Self.validate(value, kind) }

    static func validate(_ value: String, _ kind: Kind) -> String? {
        switch kind {
        case .string: return nil
        case .required: return value.isEmpty ? "must not be empty" : nil
        case .integer(let range):
            guard let n = Int(value), range.contains(n) else {
                return "must be a whole number from \(range.lowerBound) to \(range.upperBound)"
            }
            return nil
        case .boolean: return Settings.parseBool(value) == nil ? "must be true or false" : nil
        case .duration:
            return Settings.parseDuration(value) == nil ? "must be a duration such as 3, 2.5s, 250ms, 5m or 1h" : nil
        case .oneOf(let choices):
            return choices.contains(value) ? nil : "must be one of \(choices.joined(separator: ", "))"
        case .port:
            guard let n = Int(value), (0...65535).contains(n) else { return "must be a port number from 0 to 65535" }
            return nil
        case .address:
            var bytes = [UInt8](repeating: 0, count: 16)
            let bare = value.hasPrefix("[") && value.hasSuffix("]") ? String(value.dropFirst().dropLast()) : value
            guard inet_pton(AF_INET, bare, &bytes) == 1 || inet_pton(AF_INET6, bare, &bytes) == 1 else {
                return "must be a numeric IP address such as ::, 0.0.0.0 or 127.0.0.1"
            }
            return nil
        case .decimal(let range):
            guard let x = Double(value), range.contains(x) else {
                return "must be a number from \(range.lowerBound) to \(range.upperBound)"
            }
            return nil
        case .optional(let inner):
            return value.isEmpty
                ? nil : validate(value, inner).map { "must be empty or " + $0.dropFirst("must be ".count) }
        }
    }

    var typeName: String { Self.typeName(kind) }

    static func typeName(_ kind: Kind) -> String {
        switch kind {
        case .string, .required: return "string"
        case .integer: return "integer"
        case .boolean: return "bool"
        case .duration: return "duration"
        case .oneOf(let choices): return choices.joined(separator: "|")
        case .port: return "port"
        case .address: return "address"
        case .decimal: return "number"
        case .optional(let inner): return typeName(inner) + ", optional"
        }
    }
}
