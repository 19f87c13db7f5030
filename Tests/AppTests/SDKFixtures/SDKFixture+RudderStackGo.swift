extension SDKFixture {
    /// RudderStack's Go SDK (`github.com/rudderlabs/analytics-go/v4`): `{Endpoint}/v1/batch`, gzip unless
    /// `DisableGzip`, `application/json`, the `RS-targetNode` / `RS-nodeCount` / `RS-userAgent` headers, Basic, body
    /// `{"batch": […]}` (`analytics.go` `upload`, `message.go`).
    static let rudderGo = SDKFixture(
        sdk: "github.com/rudderlabs/analytics-go/v4", version: "4.2.3", commit: "rudderlabs/analytics-go@28a9ede",
        sources: ["analytics.go", "message.go"],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [
                    ("Content-Encoding", "gzip"), ("User-Agent", "analytics-go (version: 4.2.3)"), ("Content-Type", "application/json"),
                    ("RS-targetNode", ""), ("RS-nodeCount", "1"), ("RS-userAgent", "serverSDK"), ("Authorization", "Basic {basic}"),
                ],
                body: #"{"batch":[{"type":"group","messageId":"d0e1f2a3-b4c5-4d6e-9f80-91a2b3c4d5e6","anonymousId":"","userId":"user-rsgo-1","groupId":"hooli","timestamp":"2026-12-06T11:09:00.123456789Z","context":{"library":{"name":"analytics-go","version":"4.2.3"}},"traits":{"name":"Hooli"},"channel":"server","originalTimestamp":"2026-12-06T11:09:00.123456789Z","sentAt":"2026-12-06T11:09:01.5Z"}]}"#,
                isGzipped: true)
        ],
        events: [Event(messageID: "d0e1f2a3-b4c5-4d6e-9f80-91a2b3c4d5e6", type: "group", stream: "user:user-rsgo-1")], retryRule: .everyFailure)
}
