#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import ServiceKit
import SystemKit

@main
struct LoadGenMain {
    static func main() {
        let options: LoadOptions
        do {
            options = try LoadOptions.parse(ProcessEnvironment.arguments)
        } catch let error as SettingError {
            var text = "loadgen: \(error.variable) \(error.message)\n\n" + LoadOptions.usage
            _ = text.withUTF8 { write(2, $0.baseAddress, $0.count) }
            exit(2)
        } catch {
            exit(2)
        }
        if options.help {
            print(LoadOptions.usage, terminator: "")
            exit(0)
        }
        let report = LoadRun(options: options).run()
        print(report.text, terminator: "")
        exit(report.succeeded == 0 ? 1 : 0)
    }
}
