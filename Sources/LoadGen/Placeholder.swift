@main
struct PlaceholderLoadGen { static func main() {} }
