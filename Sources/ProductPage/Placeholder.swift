@main
struct PlaceholderProductPage { static func main() {} }
