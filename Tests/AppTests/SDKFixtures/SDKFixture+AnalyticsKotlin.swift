extension SDKFixture {
    /// `analytics-kotlin` (Android, JVM): a gzipped batch file to `https://{apiHost}/b` with `Content-Type: text/plain`
    /// and no `Authorization` header (`HTTPClient.kt` `upload`, `createPostConnection`); the file is
    /// `{"batch":[e1,e2],"sentAt":…,"writeKey":…}` (`EventsFileManager.kt`). Events encode their defaults
    /// (`JSON.kt` `encodeDefaults = true`), so an anonymous track carries `"userId":""`; times are
    /// `SegmentInstant` (`…46.880Z`).
    static let analyticsKotlin = SDKFixture(
        sdk: "analytics-kotlin", version: "1.24.1", commit: "segmentio/analytics-kotlin@a14649b",
        sources: [
            "core/src/main/java/com/segment/analytics/kotlin/core/HTTPClient.kt",
            "core/src/main/java/com/segment/analytics/kotlin/core/utilities/EventsFileManager.kt",
            "core/src/main/java/com/segment/analytics/kotlin/core/Events.kt",
            "core/src/main/java/com/segment/analytics/kotlin/core/utilities/DateTimeUtils.kt",
        ],
        requests: [
            Request(
                path: "/v1/b",
                headers: [("User-Agent", "analytics-kotlin/1.24.1"), ("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
                body: #"{"batch":[{"properties":{"screen":"Home"},"event":"Application Opened","type":"track","messageId":"c0a1b2c3-d4e5-4f60-8172-a3b4c5d6e7f8","anonymousId":"a8b7c6d5-e4f3-4a2b-9c1d-0e1f2a3b4c5d","integrations":{},"context":{"app":{"name":"Shop","version":"4.2.0","namespace":"com.example.shop","build":"420"},"device":{"id":"d1","manufacturer":"Google","model":"Pixel 9","name":"tokay","type":"android"},"library":{"name":"analytics-kotlin","version":"1.24.1"},"locale":"en-US","os":{"name":"Android","version":"15"},"timezone":"Europe/Berlin","instanceId":"7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"},"userId":"","_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"timestamp":"2026-12-06T11:09:00.120Z"},{"userId":"user-android-1","traits":{"email":"android@example.com"},"type":"identify","messageId":"d1b2c3d4-e5f6-4071-8283-b4c5d6e7f809","anonymousId":"a8b7c6d5-e4f3-4a2b-9c1d-0e1f2a3b4c5d","integrations":{},"context":{"library":{"name":"analytics-kotlin","version":"1.24.1"}},"_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"timestamp":"2026-12-06T11:09:01.340Z"}],"sentAt":"2026-12-06T11:09:30.003Z","writeKey":"{writeKey}"}"#,
                isGzipped: true)
        ],
        events: [
            Event(messageID: "c0a1b2c3-d4e5-4f60-8172-a3b4c5d6e7f8", type: "track", stream: "anonymous:a8b7c6d5-e4f3-4a2b-9c1d-0e1f2a3b4c5d"),
            Event(messageID: "d1b2c3d4-e5f6-4071-8283-b4c5d6e7f809", type: "identify", stream: "user:user-android-1"),
        ], retryRule: .segment)
}
