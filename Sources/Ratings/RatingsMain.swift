import HTTPKit

@main
struct RatingsMain {
    static func main() {
        ProcessEnvironment.run(RatingsApp.definition)
    }
}
