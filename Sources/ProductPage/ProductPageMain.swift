import HTTPKit

@main
struct ProductPageMain {
    static func main() {
        ProcessEnvironment.run(ProductPageApp.definition)
    }
}
