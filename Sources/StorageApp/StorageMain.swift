import HTTPKit
import ServiceKit
import SystemKit

@main
struct StorageMain {
    static func main() {
        ProcessEnvironment.run(StorageApp.definition)
    }
}
