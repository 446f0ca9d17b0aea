import HTTPKit
import SystemKit
/// A configuration error: the process prints it and exits with status 2.
public struct SettingError: Error, Sendable, CustomStringConvertible {
    public let variable: String
    public let message: String
    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }
    public var description: String { "configuration error: \(variable) \(message)" }
}
