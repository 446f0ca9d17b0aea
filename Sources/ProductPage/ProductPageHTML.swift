import HTTPKit
import ServiceKit
import SystemKit

/// The /productpage HTML. Every string from a backend or a user is escaped; only the product's own constant
/// description is HTML.
enum ProductPageHTML {
    struct Footer {
        var version: String
        var podName: String
    }

    static func render(details: BackendResult, reviews: BackendResult, user: String?, footer: Footer) -> String {
        var html = ""
        html.reserveCapacity(12 * 1024)
        html += """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="X-UA-Compatible" content="IE=edge">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Simple Bookstore App</title>
            <link rel="stylesheet" href="static/bookinfo.css">
            </head>
            <body>
            <nav><span class="brand">BookInfo Sample</span>
            """
        if let user {
            html +=
                "<span class=\"user\"><img src=\"static/img/izzy.png\" alt=\"\"><span "
                + "id=\"user\">\(HTML.escape(user))</span> <a href=\"logout\">Sign out</a></span>"
        } else {
            html += "<button id=\"sign-in-button\" type=\"button\">Sign in</button>"
        }
        html += "</nav>\n" + signInDialog
        html +=
            "<main class=\"container\">\n<h1>\(HTML.escape(Product.title))</h1>\n<div class=\"card\">"
            + "<p>\(Product.descriptionHtml)</p>"
        html += "<p><a href=\"https://istio.io\">Learn more about Istio &rarr;</a></p></div>\n"
        html += detailsBlock(details)
        html += reviewsBlock(reviews)
        html +=
            "</main>\n<footer>productpage \(HTML.escape(footer.version)) served "
            + "by \(HTML.escape(footer.podName))</footer>\n"
        html += script + "</body>\n</html>\n"
        return html
    }

    static func detailsBlock(_ result: BackendResult) -> String {
        guard result.ok else { return errorBlock("Error fetching product details", result) }
        let d = result.json
        func cell(_ key: String) -> String {
            guard let value = d[key] else { return "" }
            if let text = value.stringValue { return HTML.escape(text) }
            return HTML.escape(value.serialized())
        }
        return """
            <div class="card" id="details"><h4>Book Details</h4>
            <table><thead><tr><th>ISBN-10</th><th>Publisher</th><th>Pages</th><th>Type</th><th>Language</th></tr>\
            </thead>
            <tbody><tr><td>\(cell("ISBN-10"))</td><td>\(cell("publisher"))</td><td>\(cell("pages"))</td>\
            <td>\(cell("type"))</td><td>\(cell("language"))</td></tr></tbody></table>
            </div>

            """
    }

    static func reviewsBlock(_ result: BackendResult) -> String {
        guard result.ok else { return errorBlock("Error fetching product reviews", result) }
        var html = "<div class=\"card\" id=\"reviews\"><h4>Book Reviews</h4>\n"
        for review in result.json["reviews"]?.arrayValue ?? [] {
            html += "<section class=\"review\">"
            if let rating = review["rating"] {
                if let stars = rating["stars"]?.intValue, stars > 0 {
                    html += starsHTML(min(stars, 5), color: rating["color"]?.stringValue ?? "black")
                } else if let error = rating["error"]?.stringValue {
                    html += "<p class=\"error text-red-500\">\(HTML.escape(error))</p>"
                }
            }
            html += "<blockquote>\"\(HTML.escape(review["text"]?.stringValue ?? ""))\"</blockquote>"
            html +=
                "<div class=\"reviewer\"><img src=\"static/img/izzy.png\" alt=\"Izzy\">"
                + "<span>\(HTML.escape(review["reviewer"]?.stringValue ?? ""))</span></div>"
            html += "</section>\n"
        }
        let pod = result.json["podname"]?.stringValue ?? ""
        html += "<p class=\"served\">Reviews served by: <span id=\"podname\">\(HTML.escape(pod))</span>"
        if let cluster = result.json["clustername"]?.stringValue, cluster != "null" {
            html += " on cluster <span id=\"clustername\">\(HTML.escape(cluster))</span>"
        }
        return html + "</p></div>\n"
    }

    /// Filled stars carry `glyphicon glyphicon-star` (what Istio's checks grep for); empty ones do not.
    static func starsHTML(_ filled: Int, color: String) -> String {
        let safeColor = color.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) && !color.isEmpty ? color : "black"
        var html = "<div class=\"stars text-\(safeColor)-500\" style=\"color:\(safeColor)\">"
        let path = "M12 2l3.09 6.26L22 9.27l-5 4.87 1.18 6.88L12 17.77l-6.18 3.25L7 14.14 2 9.27l6.91-1.01L12 2z"
        for _ in 0..<filled {
            html +=
                "<svg class=\"glyphicon glyphicon-star\" viewBox=\"0 0 24 24\" fill=\"currentColor\" "
                + "aria-hidden=\"true\"><path d=\"\(path)\"/></svg>"
        }
        for _ in filled..<5 {
            html +=
                "<svg class=\"star-empty\" viewBox=\"0 0 24 24\" fill=\"none\" stroke=\"currentColor\" "
                + "stroke-width=\"1.5\" aria-hidden=\"true\"><path d=\"\(path)\"/></svg>"
        }
        return html + "</div>"
    }

    static func errorBlock(_ heading: String, _ result: BackendResult) -> String {
        var html = "<div class=\"card\"><p class=\"error text-2xl text-red-500\">\(heading)</p>"
        if let message = result.json["error"]?.stringValue { html += "<p>\(HTML.escape(message))</p>" }
        return html + "</div>\n"
    }

    static let signInDialog = """
        <dialog id="dialog">
        <h2>Sign in to BookInfo</h2>
        <form method="post" action="login" name="login_form">
        <label for="username">User name</label><input id="username" name="username" type="text" \
        autocomplete="username" required>
        <label for="password">Password</label><input id="password" name="passwd" type="password" \
        autocomplete="current-password" required>
        <div class="actions"><button type="submit">Sign in</button><button type="button" class="secondary" \
        id="close-dialog">Cancel</button></div>
        </form>
        <p>Not using Istio yet? <a href="https://istio.io">Start here</a></p>
        </dialog>

        """

    static let script = """
        <script>
        (function () {
          var dialog = document.getElementById("dialog");
          var open = document.getElementById("sign-in-button");
          var close = document.getElementById("close-dialog");
          if (open) open.addEventListener("click", function () { dialog.showModal(); });
          if (close) close.addEventListener("click", function () { dialog.close(); });
        })();
        </script>

        """
}

/// The / page: what the application is made of.
enum IndexHTML {
    static func render(details: String, reviews: String, ratings: String) -> String {
        func row(_ name: String, _ url: String, _ children: String = "") -> String {
            "<tr><td>\(HTML.escape(name))</td><td>\(HTML.escape(url))</td><td>\(children)</td></tr>"
        }
        let ratingsTable =
            "<table class=\"services\"><tr><th>service</th><th>endpoint</th><th>calls</th>"
            + "</tr>\(row("ratings", ratings))</table>"
        let children =
            "<table class=\"services\"><tr><th>service</th><th>endpoint</th><th>calls</th>"
            + "</tr>\(row("details", details))\(row("reviews", reviews, ratingsTable))</table>"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Simple Bookstore App</title><link rel="stylesheet" href="static/bookinfo.css"></head>
            <body><nav><span class="brand">BookInfo Sample</span></nav>
            <main class="container">
            <p>Hello! This is a simple bookstore application consisting of three services as shown below</p>
            <table class="services"><tr><th>service</th><th>endpoint</th><th>calls</th>\
            </tr>\(row("productpage", "/productpage", children))</table>
            <p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
            <p><a href="productpage?u=normal">Normal user</a></p>
            <p><a href="productpage?u=test">Test user</a></p>
            </main></body></html>

            """
    }
}
