import HTTPKit
import Testing
import SystemKit
import ServiceKit

@Suite struct SettingsTests {
    let table =
        ServerSettings.table + [
            Setting("FLAG", "false", "a flag", .boolean), Setting("WAIT", "3s", "a wait", .duration),
        ]

    @Test func aServiceEntryReplacesTheSharedOneInPlace() throws {
        let own = [
            Setting("EXTRA", "x", "its own", .required),
            Setting("HTTP_SERVER_EVENT_LOOPS", "1", "one here", .optional(.integer(1...64))),
        ]
        let merged = ServerSettings.table(with: own)
        #expect(merged.map(\.name) == ServerSettings.table.map(\.name) + ["EXTRA"])
        #expect(merged.first { $0.name == "HTTP_SERVER_EVENT_LOOPS" }?.defaultValue == "1")
        #expect(try Settings(table: merged, environment: [:]).int("HTTP_SERVER_EVENT_LOOPS") == 1)
        #expect(
            try Settings(table: merged, environment: ["HTTP_SERVER_EVENT_LOOPS": "4"]).int("HTTP_SERVER_EVENT_LOOPS")
                == 4)
        #expect(
            Settings.helpText(service: "s", summary: "t", table: merged).components(
                separatedBy: "HTTP_SERVER_EVENT_LOOPS"
            ).count == 2)
    }

    @Test func booleansAreTrueOrFalseInAnyCase() throws {
        for (text, value) in [("true", true), ("TRUE", true), ("False", false), ("false", false)] {
            #expect(try Settings(table: table, environment: ["FLAG": text]).bool("FLAG") == value)
        }
        for text in ["yes", "1", "0", "on", "", "maybe"] {
            #expect(throws: SettingError.self, "FLAG=\(text)") {
                try Settings(table: table, environment: ["FLAG": text])
            }
        }
    }

    @Test func aSecretIsShownOnlyAsSetOrNot() throws {
        let secret = [
            Setting("KEY", "published-default", "a key", .required, secret: true),
            Setting("TOKEN", "", "a token", secret: true),
        ]
        let given = try Settings(table: secret, environment: ["KEY": "hunter2-real", "TOKEN": ""])
        #expect(given.json.serialized() == #"{"KEY":"set","TOKEN":"unset"}"#)
        #expect(!given.isDefaultSecret("KEY"))
        let defaulted = try Settings(table: secret, environment: [:])
        #expect(defaulted.json.serialized() == #"{"KEY":"built-in default","TOKEN":"unset"}"#)
        #expect(defaulted.isDefaultSecret("KEY"))
        #expect(
            try Settings(table: secret, environment: ["KEY": "placeholder"]).isDefaultSecret(
                "KEY", placeholder: "placeholder"))
        let help = Settings.helpText(service: "s", summary: "t", table: secret)
        #expect(!help.contains("published-default"))
        #expect(help.contains("KEY (secret string, default built in, not shown)"))
        let refused = #expect(throws: SettingError.self) {
            try Settings(
                table: [Setting("PIN", "1234", "a pin", .integer(0...9999), secret: true)],
                environment: ["PIN": "secret-pin-text"])
        }
        #expect(refused.map { !$0.description.contains("secret-pin-text") && $0.description.contains("PIN") } == true)
    }

    @Test func defaultsEnvironmentAndPortArgument() throws {
        let settings = try Settings(table: table, environment: ["FLAG": "true", "PORT": "8000"], arguments: ["7000"])
        #expect(settings.bool("FLAG"))
        #expect(settings.int("PORT") == 7000)
        #expect(settings.seconds("WAIT") == 3)
        #expect(try Settings(table: table, environment: [:], arguments: ["--port", "81"]).int("PORT") == 81)
        #expect(try Settings(table: table, environment: ["WAIT": "250ms"]).seconds("WAIT") == 0.25)
    }

    @Test(arguments: [("PORT", "99999"), ("FLAG", "maybe"), ("WAIT", "soon"), ("HTTP_SERVER_MAX_BODY_BYTES", "-1")])
    func badValuesNameTheVariable(_ name: String, _ value: String) {
        do {
            _ = try Settings(table: table, environment: [name: value])
            Issue.record("accepted \(name)=\(value)")
        } catch let error as SettingError {
            #expect(error.variable == name)
            #expect(error.description.contains(value))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func helpListsEverySetting() {
        let help = Settings.helpText(service: "svc", summary: "a service", table: table)
        for setting in table { #expect(help.contains(setting.name)) }
        #expect(help.hasPrefix("svc: a service\n\nUsage: svc [PORT]"))
    }

    @Test func serviceExitsTwoOnBadSetting() {
        let definition = ServiceRunner.Definition(name: "svc", summary: "s", table: []) { _ in Router() }
        var errors = ""
        #expect(
            ServiceRunner.main(definition, arguments: [], environment: ["HTTP_SERVER_IDLE_TIMEOUT": "x"]) {
                errors += $0
            } == 2)
        #expect(errors.hasPrefix("svc: configuration error: HTTP_SERVER_IDLE_TIMEOUT must be a duration"))
        errors = ""
        #expect(ServiceRunner.main(definition, arguments: ["--bogus"], environment: [:]) { errors += $0 } == 2)
        #expect(errors.hasPrefix("svc: configuration error: --bogus is not a known option"))
    }

    @Test func aNameNotInTheTableIsAProgrammingErrorThatStopsTheProcess() async throws {
        let settings = try Settings(table: [Setting("KNOWN", "1", "a setting")], environment: [:])
        #expect(settings.string("KNOWN") == "1")
        #expect(settings.valueIfPresent("UNKNOWN") == nil)
        await #expect(processExitsWith: .failure) {
            let settings = try Settings(table: [Setting("KNOWN", "1", "a setting")], environment: [:])
            _ = settings.string("UNKNOWN")
        }
    }
}

/// The ad hoc tables of these tests are read by name; a service reads its settings by their declarations.
extension Settings {
    fileprivate func string(_ name: String) -> String { string(Setting(name, "", "")) }
    fileprivate func int(_ name: String) -> Int { int(Setting(name, "", "")) }
    fileprivate func bool(_ name: String) -> Bool { bool(Setting(name, "", "")) }
    fileprivate func seconds(_ name: String) -> Double { seconds(Setting(name, "", "")) }
    fileprivate func isDefaultSecret(_ name: String, placeholder: String? = nil) -> Bool {
        isDefaultSecret(Setting(name, "", ""), placeholder: placeholder)
    }
}
