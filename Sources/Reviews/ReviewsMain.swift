import HTTPKit

@main
struct ReviewsMain {
    static func main() {
        ProcessEnvironment.run(ReviewsApp.definition)
    }
}
