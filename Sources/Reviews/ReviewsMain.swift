import HTTPKit
import ServiceKit

@main
struct ReviewsMain {
    static func main() {
        ProcessEnvironment.run(ReviewsApp.definition)
    }
}
