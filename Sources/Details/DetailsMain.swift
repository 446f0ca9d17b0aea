import HTTPKit

@main
struct DetailsMain {
    static func main() {
        ProcessEnvironment.run(DetailsApp.definition)
    }
}
