@main
struct PlaceholderStorageApp { static func main() {} }
