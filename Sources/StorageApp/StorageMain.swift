import HTTPKit

@main
struct StorageMain {
    static func main() {
        ProcessEnvironment.run(StorageApp.definition)
    }
}
