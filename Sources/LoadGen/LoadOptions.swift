import HTTPKit
import ServiceKit
import SystemKit

/// Command line of the load generator, in the style of npm's `loadtest` that the storage demo used.
struct LoadOptions: Equatable {
    var requests = 400
    var concurrency = 10
    var rate: Double?
    var timeout = 10.0
    var headers: [(String, String)] = []
    var method = HTTPMethod.get
    var url = ""
    var help = false

    static func == (a: LoadOptions, b: LoadOptions) -> Bool {
        a.requests == b.requests && a.concurrency == b.concurrency && a.rate == b.rate && a.url == b.url
            && a.timeout == b.timeout
            && a.headers.map { $0.0 + ":" + $0.1 } == b.headers.map { $0.0 + ":" + $0.1 } && a.method == b.method
            && a.help == b.help
    }

    static let usage = """
        Usage: loadgen [-n REQUESTS] [-c CONCURRENCY] [--rps RATE] [-t TIMEOUT] [-H 'Name: value'] [-m METHOD] URL

          -n, --requests      requests to send in all (default 400)
          -c, --concurrency   requests in flight at once (default 10)
          --rps               target requests per second over all clients (default: as fast as possible)
          -t, --timeout       deadline of each request, e.g. 10s (default 10s)
          -H, --header        extra request header; repeatable (use 'Cookie: session=...' to load as a signed-in user)
          -m, --method        GET (default), HEAD, DELETE...

        Prints status counts and latency percentiles; for a bookinfo /productpage URL also the share of pages served by
        each reviews version (no stars = v1, black stars = v2, red stars = v3), to check a traffic split such as 80/20.

        """

    static func parse(_ arguments: [String]) throws -> LoadOptions {
        var options = LoadOptions()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw SettingError(variable: flag, message: "needs a value") }
            return next
        }
        func number(_ flag: String, _ text: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let n = Int(text), range.contains(n) else {
                throw SettingError(
                    variable: flag,
                    message: "must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")")
            }
            return n
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "-h", "--help": options.help = true
            case "-n", "--requests": options.requests = try number(argument, try value(argument), 1...100_000_000)
            case "-c", "--concurrency": options.concurrency = try number(argument, try value(argument), 1...10_000)
            case "--rps":
                let text = try value(argument)
                guard let rate = Double(text), rate > 0, rate <= 1_000_000 else {
                    throw SettingError(variable: argument, message: "must be a positive number (got \"\(text)\")")
                }
                options.rate = rate
            case "-t", "--timeout":
                let text = try value(argument)
                guard let seconds = Settings.parseDuration(text), seconds > 0 else {
                    throw SettingError(variable: argument, message: "must be a duration such as 10s (got \"\(text)\")")
                }
                options.timeout = seconds
            case "-H", "--header":
                let text = try value(argument)
                guard let colon = text.firstIndex(of: ":") else {
                    throw SettingError(variable: argument, message: "must look like 'Name: value' (got \"\(text)\")")
                }
                let name = String(text[..<colon]),
                    headerValue = String(text[text.index(after: colon)...].drop { $0 == " " })
                guard MessageWriter.isValidName(name), MessageWriter.isValidValue(headerValue) else {
                    throw SettingError(variable: argument, message: "has an invalid name or value (got \"\(text)\")")
                }
                options.headers.append((name, headerValue))
            case "-m", "--method": options.method = HTTPMethod(try value(argument).uppercased())
            default:
                guard !argument.hasPrefix("-"), options.url.isEmpty else {
                    throw SettingError(variable: argument, message: "is not a known option")
                }
                options.url =
                    argument.hasPrefix("http://") || argument.hasPrefix("https://") ? argument : "http://" + argument
            }
        }
        if !options.help {
            guard !options.url.isEmpty else { throw SettingError(variable: "URL", message: "is missing") }
            do { _ = try HTTPClient.URL(options.url) } catch {
                throw SettingError(variable: "URL", message: "\(error)")
            }
        }
        return options
    }
}
