import Foundation
import HTTPKit
import Testing
import TestSupport
import SystemKit
import ServiceKit

@Suite struct ConfigurationDocsTests {
    /// docs/configuration.md is generated from --help; it must say what the binaries say.
    @Test(arguments: ["productpage", "details", "reviews", "ratings", "storage-app", "loadgen"])
    func docsMatchHelp(_ binary: String) throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let docs = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let (status, help) = try ServiceProcess.run(binary, arguments: ["--help"])
        #expect(status == 0)
        #expect(
            docs.contains("## \(binary)\n\n```\n" + help + "```"),
            "docs/configuration.md is stale: run scripts/gen-config-docs.sh")
    }
}
