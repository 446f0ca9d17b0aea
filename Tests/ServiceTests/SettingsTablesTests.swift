@testable import Details
import HTTPKit
@testable import ProductPage
@testable import Ratings
@testable import Reviews
@testable import StorageApp
import Testing
import SystemKit
import ServiceKit

/// Every service builds from its defaults and reads its typed settings by their declarations, so a misspelt name
/// does not compile.
@Suite struct SettingsTablesTests {
    func context(_ name: String, _ table: [Setting], _ environment: [String: String] = [:]) throws -> ServiceContext {
        try ServiceContext(testing: name, table: table, environment: environment)
    }

    @Test func everyServiceBuildsFromItsDefaults() throws {
        let routers = [
            ("/details/0", try DetailsApp.makeRouter(try context("details", DetailsApp.table))),
            ("/productpage", try ProductPageApp.makeRouter(try context("productpage", ProductPageApp.table))),
            ("/ratings/0", try RatingsApp.makeRouter(try context("ratings", RatingsApp.table))),
            ("/reviews/0", try ReviewsApp.makeRouter(try context("reviews", ReviewsApp.table))),
            ("/storage/key", try StorageApp.makeRouter(try context("storage-app", StorageApp.table))),
        ]
        for (path, router) in routers {
            #expect(router.routePattern(for: path) != nil, "no route for \(path)")

        }
    }

    @Test func typedSettingsCarryTheValues() throws {
        let details = try DetailsSettings(
            try context(
                "details", DetailsApp.table,
                ["ENABLE_EXTERNAL_BOOK_SERVICE": "true", "DO_NOT_ENCRYPT": "true", "BOOK_SERVICE_PORT": "8081"]
            ).settings)
        #expect(details.bookServiceURL == "http://www.googleapis.com:8081")
        let page = ProductPageSettings(
            try context("productpage", ProductPageApp.table, ["REVIEWS_ENDPOINTS": "a:1, b:2", "SESSION_SECRET": "s"])
                .settings)
        #expect(page.reviewsURLs == ["http://a:1", "http://b:2"])
        #expect(page.reviewsSetting == "REVIEWS_ENDPOINTS")
        #expect(!page.secretIsPublished)
        let ratings = try RatingsSettings(
            try context("ratings", RatingsApp.table, ["SERVICE_VERSION": "v-delayed", "RAND_SEED": "7"]).settings)
        #expect(ratings.mode == .delayed && ratings.seed == 7 && ratings.faultDelay == 7 && ratings.database == nil)
        let v2 = try RatingsSettings(
            try context(
                "ratings", RatingsApp.table,
                ["SERVICE_VERSION": "v2", "DB_TYPE": "mysql", "MYSQL_DB_HOST": "db", "MYSQL_DB_PASSWORD": "pw"]
            ).settings)
        #expect(v2.database?.endpoint == "mysql://db:3306/test" && v2.database?.password == "pw")
        #expect(v2.database?.user == "root" && v2.databaseTimeout == 1 && v2.poolSize == 4)
        #expect(throws: SettingError.self) {
            try RatingsSettings(try context("ratings", RatingsApp.table, ["SERVICE_VERSION": "v2"]).settings)
        }
        let storage = try StorageSettings(
            try context("storage-app", StorageApp.table, ["ETCD_ENDPOINTS": "http://a:1,http://b:2"]).settings)
        #expect(storage.endpointURLs == ["http://a:1", "http://b:2"] && storage.api == "v3" && storage.timeout == 5)
    }
}
