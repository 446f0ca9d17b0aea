@main
struct PlaceholderReviews { static func main() {} }
