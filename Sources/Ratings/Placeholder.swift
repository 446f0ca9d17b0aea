@main
struct PlaceholderRatings { static func main() {} }
