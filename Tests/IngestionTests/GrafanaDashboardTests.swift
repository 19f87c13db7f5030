import Foundation
import Testing

/// deploy/grafana/hubsignal-dashboard.json queries only series HubSignal exports.
@Suite struct GrafanaDashboardTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the dashboard is valid JSON and every metric it queries is one the code declares")
    func dashboardMetricsExist() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("deploy/grafana/hubsignal-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 8)
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        var names: Set<String> = []
        let metric = try Regex(#"(hubsignal|http_server)_[a-z_]+"#)
        for expression in expressions {
            for match in expression.matches(of: metric) {
                var name = String(expression[match.range])
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
                names.insert(name)
            }
        }
        #expect(names.count >= 15)
        // Every name appears in the sources (as a metric label), or is Hummingbird's own HTTP histogram.
        var sources = ""
        let enumerator = FileManager.default.enumerator(at: Self.root.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)
        while let file = enumerator?.nextObject() as? URL {
            if file.pathExtension == "swift" { sources += (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
        }
        for name in names where name.hasPrefix("hubsignal_") {
            #expect(sources.contains("\"\(name)\""), "the dashboard queries \(name), which no code exports")
        }
    }
}
