import Testing

extension SDKFixture {
    /// A settings request as an SDK sends it before it sends anything: analytics.js loads
    /// `{cdnURL}/v1/projects/{writeKey}/settings` from the page, the mobile SDKs `https://{cdnHost}/projects/{writeKey}/settings`
    /// with a `cdnHost` of `<host>/v1`, as Segment's default `cdn-settings.segment.com/v1`.
    struct SettingsRequest: Sendable, CustomTestStringConvertible {
        var sdk: String
        /// The file of the SDK's commit (as in its wire-format fixture) that builds the request.
        var source: String
        var headers: [(name: String, value: String)]
        var path = "/v1/projects/{writeKey}/settings"

        var testDescription: String { sdk }
    }

    /// Every SDK above that loads settings, with the headers its source sets on that request.
    static let settingsRequests: [SettingsRequest] = [
        SettingsRequest(
            sdk: "@segment/analytics-next 1.84.1", source: "packages/browser/src/browser/index.ts (loadCDNSettings)",
            headers: [("Origin", pageOrigin)]),
        SettingsRequest(
            sdk: "analytics-swift 1.9.4", source: "Sources/Segment/Utilities/Networking/HTTPClient.swift (settingsFor)",
            headers: [("Content-Type", "application/json; charset=utf-8"), ("User-Agent", "analytics-ios/1.9.4"), ("Accept-Encoding", "gzip")]),
        SettingsRequest(
            sdk: "analytics-kotlin 1.24.1", source: "core/src/main/java/com/segment/analytics/kotlin/core/HTTPClient.kt (settings)",
            headers: [("User-Agent", "analytics-kotlin/1.24.1"), ("Content-Type", "application/json; charset=utf-8")]),
        SettingsRequest(
            sdk: "@segment/analytics-react-native 2.21.4", source: "packages/core/src/analytics.ts (getSettingsEndpoint, fetchSettings)",
            headers: [("Cache-Control", "no-cache")]),
        SettingsRequest(
            sdk: "Segment.Analytics.CSharp 2.6.0", source: "Analytics-CSharp/Segment/Analytics/Utilities/HTTPClient.cs (Settings)",
            headers: [("Connection", "close")]),
    ]
}
