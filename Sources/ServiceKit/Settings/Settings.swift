import HTTPKit
import SystemKit
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
                throw SettingError(
                    variable: setting.name, message: setting.isSecret ? problem : "\(problem) (got \"\(value)\")")
            }
            values[setting.name] = value
        }
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument == "--port" {
                guard let value = rest.popFirst() else {
                    throw SettingError(variable: "--port", message: "needs a value")
                }
                values[ServerSettings.port.name] = try Self.checkPort(value, variable: "--port")
            } else if let value = argument.split(separator: "=", maxSplits: 1).dropFirst().first,
                argument.hasPrefix("--port=")
            {
                values[ServerSettings.port.name] = try Self.checkPort(String(value), variable: "--port")
            } else if !argument.hasPrefix("-") {
                values[ServerSettings.port.name] = try Self.checkPort(argument, variable: "port argument")
            } else {
                throw SettingError(variable: argument, message: "is not a known option (try --help)")
            }
        }
        self.values = values
    }

    private static func checkPort(_ value: String, variable: String) throws -> String {
        if let problem = Setting.validate(value, .port) {
            throw SettingError(variable: variable, message: "\(problem) (got \"\(value)\")")
        }
        return value
    }

    /// The value of a setting; one that is not in this service's table is a programming error, and stops the process.
    /// Settings are named by their declarations (`ServerSettings.port`), so a misspelt name does not compile.
    public func string(_ setting: Setting) -> String {
        guard let value = values[setting.name] else {
            preconditionFailure("\(setting.name) is not in this service's settings table")
        }
        return value
    }

    /// The value of a setting, or nil when this service's table has no such name.
    public func valueIfPresent(_ name: String) -> String? { values[name] }

    public func int(_ setting: Setting) -> Int { Int(string(setting)) ?? 0 }
    public func bool(_ setting: Setting) -> Bool { Self.parseBool(string(setting)) ?? false }
    public func seconds(_ setting: Setting) -> Double { Self.parseDuration(string(setting)) ?? 0 }
    public func number(_ setting: Setting) -> Double { Double(string(setting)) ?? 0 }
    /// A comma-separated setting, items trimmed, empty items dropped.
    public func list(_ setting: Setting) -> [String] {
        string(setting).split(separator: ",").map { trimOWS($0) }.filter { !$0.isEmpty }
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
            let shown =
                setting.isSecret
                ? (setting.defaultValue.isEmpty ? "unset" : "built in, not shown")
                : setting.defaultValue.isEmpty ? "\"\"" : setting.defaultValue
            out +=
                "  \(setting.name) (\(setting.isSecret ? "secret " : "")\(setting.typeName), default \(shown))\n     "
                + " \(setting.help)\n"
        }
        return out
    }

    /// The effective values as a JSON object, in table order, for the start-up log line; secrets as set or not.
    public var json: JSON {
        .object(table.map { ($0.name, .string($0.shown(values[$0.name] ?? ""))) })
    }

    /// Whether a secret still has its built-in default (or `placeholder`, a value shipped in a manifest).
    public func isDefaultSecret(_ setting: Setting, placeholder: String? = nil) -> Bool {
        let value = string(setting)
        return table.first { $0.name == setting.name }?.defaultValue == value || value == placeholder
    }
}
