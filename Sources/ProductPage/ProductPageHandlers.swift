import Bookinfo
import HTTPKit
import ServiceKit

/// productpage's routes, one method each; `ProductPageApp.makeRouter` wires them.
struct ProductPageHandlers: Sendable {
    let backends: Backends
    let session: Session
    /// Extra copies of each backend call (productpage v-flooding).
    let flood: Int
    let footer: ProductPageHTML.Footer

    static let invalidID = "please provide numeric product id"

    /// The page: details and reviews for the signed-in user (or nobody), with the user's name passed on.
    func page(_ request: Request) throws -> Reply {
        let user = session.user(of: request.headers)
        let headers = HeaderPropagation.outgoing(from: request.headers, endUser: .some(user))
        let footer = self.footer
        return backends.flood(flood, id: Product.id, headers: headers) { [backends] in
            backends.detailsAndReviews(id: Product.id, headers: headers) { details, reviews in
                var response = Response.html(
                    ProductPageHTML.render(details: details, reviews: reviews, user: user, footer: footer))
                response.headers.add("Vary", "Cookie")
                return .response(response)
            }
        }
    }

    /// Signs a user in from the form (or the query, as the original takes it): any password, a valid name.
    func login(_ request: Request) throws -> Response {
        let form =
            request.headers["Content-Type"]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
            ? URI.parseForm(request.bodyText) : []
        let username = form.first { $0.0 == "username" }?.1 ?? request.queryValue("username") ?? ""
        guard Session.isValidUsername(username) else {
            throw HTTPError(.badRequest, "username must be 1 to \(Session.maxUsernameLength) printable characters")
        }
        var response = Response.redirect(to: ProductPageApp.redirectTarget(request))
        response.headers.add("Set-Cookie", session.setCookie(user: username))
        response.headers.add("Vary", "Cookie")
        return response
    }

    @Sendable static func logout(_ request: Request) throws -> Response {
        var response = Response.redirect(to: ProductPageApp.redirectTarget(request))
        response.headers.add("Set-Cookie", Session.clearCookie)
        response.headers.add("Vary", "Cookie")
        return response
    }

    @Sendable static func staticFile(_ request: Request) throws -> Response {
        guard let response = StaticAssets.response(for: try request.parameter("path")) else {
            throw HTTPError(.notFound, "no static file \(request.path)")
        }
        return response
    }

    @Sendable static func products(_ request: Request) throws -> Response {
        .json(bytes: JSON.array([Product.json]).bytes(.spaced))
    }

    func productDetails(_ request: Request) throws -> Reply {
        let id = try request.int32Parameter("id", message: Self.invalidID)
        return backends.details(id: id, headers: ProductPageApp.apiHeaders(request, session)) {
            .response(ProductPageApp.api($0))
        }
    }

    func productReviews(_ request: Request) throws -> Reply {
        let id = try request.int32Parameter("id", message: Self.invalidID)
        return backends.reviews(id: id, headers: ProductPageApp.apiHeaders(request, session)) {
            .response(ProductPageApp.api($0))
        }
    }

    func productRatings(_ request: Request) throws -> Reply {
        let id = try request.int32Parameter("id", message: Self.invalidID)
        return backends.ratings(id: id, headers: ProductPageApp.apiHeaders(request, session)) {
            .response(ProductPageApp.api($0))
        }
    }
}
