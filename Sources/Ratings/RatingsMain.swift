import HTTPKit
import ServiceKit
import SystemKit

@main
struct RatingsMain {
    static func main() {
        ProcessEnvironment.run(RatingsApp.definition)
    }
}
