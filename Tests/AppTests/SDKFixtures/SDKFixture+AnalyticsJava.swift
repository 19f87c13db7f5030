extension SDKFixture {
    /// `analytics-java`: Retrofit `@POST` to `{endpoint}/v1/import/` (`Analytics.java` `DEFAULT_PATH`, trailing slash
    /// included), Gson's `application/json; charset=UTF-8`, `Authorization: Basic` and `User-Agent` from
    /// `AnalyticsRequestInterceptor`, body the `Batch` value (`batch`, `sentAt`, `context`, `sequence`, `writeKey`); the library is named in the batch's
    /// `context` (`AnalyticsClient.CONTEXT`), a message's own `context` only when the caller gives one.
    static let analyticsJava = SDKFixture(
        sdk: "analytics-java", version: "3.5.5-SNAPSHOT", commit: "segmentio/analytics-java@07802a3",
        sources: [
            "analytics/src/main/java/com/segment/analytics/Analytics.java",
            "analytics/src/main/java/com/segment/analytics/AnalyticsRequestInterceptor.java",
            "analytics-core/src/main/java/com/segment/analytics/http/SegmentService.java",
            "analytics-core/src/main/java/com/segment/analytics/messages/Batch.java",
        ],
        requests: [
            Request(
                path: "/v1/import/",
                headers: [
                    ("Content-Type", "application/json; charset=UTF-8"), ("Authorization", "Basic {basic}"),
                    ("User-Agent", "analytics-java/3.5.5-SNAPSHOT"),
                ],
                body: #"{"batch":[{"type":"identify","messageId":"1d2c3b4a-5f6e-4789-a0b1-c2d3e4f5a6b7","timestamp":"2026-12-06T11:09:00.111Z","userId":"user-java-1","traits":{"email":"java@example.com","plan":"team"}},{"type":"track","messageId":"2e3d4c5b-6a7f-4890-b1c2-d3e4f5a6b7c8","timestamp":"2026-12-06T11:09:00.222Z","userId":"user-java-1","event":"Report Exported","properties":{"format":"csv"}}],"sentAt":"2026-12-06T11:09:01.000Z","context":{"library":{"name":"analytics-java","version":"3.5.5-SNAPSHOT"}},"sequence":0,"writeKey":"{writeKey}"}"#)
        ],
        events: [
            Event(messageID: "1d2c3b4a-5f6e-4789-a0b1-c2d3e4f5a6b7", type: "identify", stream: "user:user-java-1"),
            Event(messageID: "2e3d4c5b-6a7f-4890-b1c2-d3e4f5a6b7c8", type: "track", stream: "user:user-java-1"),
        ], retryRule: .segment)
}
