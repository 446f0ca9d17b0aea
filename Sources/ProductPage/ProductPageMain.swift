import HTTPKit
import ServiceKit
import SystemKit

@main
struct ProductPageMain {
    static func main() {
        ProcessEnvironment.run(ProductPageApp.definition)
    }
}
