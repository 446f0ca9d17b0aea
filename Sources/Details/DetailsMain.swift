import HTTPKit
import ServiceKit

@main
struct DetailsMain {
    static func main() {
        ProcessEnvironment.run(DetailsApp.definition)
    }
}
