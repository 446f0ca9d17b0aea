#if canImport(Glibc)
@preconcurrency import Glibc
#endif

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
            guard let n = Int(value), range.contains(n) else { return "must be a whole number from \(range.lowerBound) to \(range.upperBound)" }
            return nil
        case .boolean: return Settings.parseBool(value) == nil ? "must be true or false" : nil
        case .duration: return Settings.parseDuration(value) == nil ? "must be a duration such as 3, 2.5s, 250ms, 5m or 1h" : nil
        case .oneOf(let choices): return choices.contains(value) ? nil : "must be one of \(choices.joined(separator: ", "))"
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
            guard let x = Double(value), range.contains(x) else { return "must be a number from \(range.lowerBound) to \(range.upperBound)" }
            return nil
        case .optional(let inner):
            return value.isEmpty ? nil : validate(value, inner).map { "must be empty or " + $0.dropFirst("must be ".count) }
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

/// A configuration error: the process prints it and exits with status 2.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let variable: String
    public let message: String
    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }
    public var description: String { "configuration error: \(variable) \(message)" }
}

/// The parsed values of a service's settings table.
public struct Settings: Sendable {
    public let table: [Setting]
    public let values: [String: String]

    /// Reads every setting from the environment (or its default) and validates it. The port may also come from
    /// `--port N` or a bare first argument, as the original bookinfo services take it.
    public init(table: [Setting], environment: [String: String], arguments: [String] = []) throws {
        self.table = table
        var values: [String: String] = [:]
        for setting in table {
            let value = environment[setting.name] ?? setting.defaultValue
            if let problem = setting.validate(value) {
                throw ConfigError(variable: setting.name, message: setting.isSecret ? problem : "\(problem) (got \"\(value)\")")
            }
            values[setting.name] = value
        }
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--port" {
                guard let value = rest.popFirst() else { throw ConfigError(variable: "--port", message: "needs a value") }
                values["PORT"] = try Self.checkPort(value, variable: "--port")
            } else if let value = argument.split(separator: "=", maxSplits: 1).dropFirst().first, argument.hasPrefix("--port=") {
                values["PORT"] = try Self.checkPort(String(value), variable: "--port")
            } else if !argument.hasPrefix("-") {
                values["PORT"] = try Self.checkPort(argument, variable: "port argument")
            } else {
                throw ConfigError(variable: argument, message: "is not a known option (try --help)")
            }
        }
        self.values = values
    }

    private static func checkPort(_ value: String, variable: String) throws -> String {
        if let problem = Setting.validate(value, .port) { throw ConfigError(variable: variable, message: "\(problem) (got \"\(value)\")") }
        return value
    }

    public func string(_ name: String) -> String { values[name] ?? "" }
    public func int(_ name: String) -> Int { Int(string(name)) ?? 0 }
    public func bool(_ name: String) -> Bool { Self.parseBool(string(name)) ?? false }
    public func seconds(_ name: String) -> Double { Self.parseDuration(string(name)) ?? 0 }
    public func number(_ name: String) -> Double { Double(string(name)) ?? 0 }
    /// The bookinfo convention for a backend's address: `http://{<NAME>_HOSTNAME}{.SERVICES_DOMAIN}:{<NAME>_SERVICE_PORT}`.
    public func serviceURL(_ name: String) -> String {
        let domain = string("SERVICES_DOMAIN")
        return "http://\(string("\(name)_HOSTNAME"))\(domain.isEmpty ? "" : "." + domain):\(string("\(name)_SERVICE_PORT"))"
    }

    /// A comma-separated setting, items trimmed, empty items dropped.
    public func list(_ name: String) -> [String] {
        string(name).split(separator: ",").map { trimOWS($0) }.filter { !$0.isEmpty }
    }

    /// `true` or `false`, in any case (as Java's and Python's readers of the originals' settings take them).
    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// Seconds in a duration text (`2.5s`, `250ms`, `3`), or nil.
    public static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let n = Double(text.dropLast(suffix.count)), n >= 0, n.isFinite else { return nil }
            return n * scale
        }
        guard let n = Double(text), n >= 0, n.isFinite else { return nil }
        return n
    }

    /// The `--help` text: usage line and one entry per setting.
    public static func helpText(service: String, summary: String, table: [Setting]) -> String {
        var out = "\(service): \(summary)\n\nUsage: \(service) [PORT] [--port PORT] [--help] [--version]\n\n"
        out += "Settings (environment variables):\n"
        for setting in table {
            let shown = setting.isSecret ? (setting.defaultValue.isEmpty ? "unset" : "built in, not shown") : setting.defaultValue.isEmpty ? "\"\"" : setting.defaultValue
            out += "  \(setting.name) (\(setting.isSecret ? "secret " : "")\(setting.typeName), default \(shown))\n      \(setting.help)\n"
        }
        return out
    }

    /// The effective values as a JSON object, in table order, for the start-up log line; secrets as set or not.
    public var json: JSON {
        .object(table.map { ($0.name, .string($0.shown(values[$0.name] ?? ""))) })
    }

    /// Whether a secret still has its built-in default (or `placeholder`, a value shipped in a manifest).
    public func isDefaultSecret(_ name: String, placeholder: String? = nil) -> Bool {
        let value = string(name)
        return table.first { $0.name == name }?.defaultValue == value || value == placeholder
    }
}
