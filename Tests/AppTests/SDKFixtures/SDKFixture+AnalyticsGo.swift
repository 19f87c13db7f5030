extension SDKFixture {
    /// `analytics-go` v3: `{Endpoint}/v1/batch`, `application/json`, `SetBasicAuth(key, "")`, body the `batch` struct
    /// (`messageId`, `sentAt`, `batch`, `context`) with Go's RFC 3339 nanosecond times (`analytics.go` `upload`,
    /// `message.go`). (Its `Content-Length` header line is dropped by net/http, which writes its own.)
    static let analyticsGo = SDKFixture(
        sdk: "github.com/segmentio/analytics-go/v3", version: "3.3.0", commit: "segmentio/analytics-go@bc3a04e",
        sources: ["analytics.go", "message.go", "track.go", "page.go"],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [("User-Agent", "analytics-go (version: 3.0.0)"), ("Content-Type", "application/json"), ("Authorization", "Basic {basic}")],
                body: #"{"messageId":"8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d","sentAt":"2026-12-06T11:09:01.123456789Z","batch":[{"type":"track","messageId":"3f4e5d6c-7b8a-4901-82c3-d4e5f6a7b8c9","userId":"user-go-1","event":"Build Finished","timestamp":"2026-12-06T11:09:00.987654321Z","properties":{"duration":12.5},"context":{"library":{"name":"analytics-go","version":"3.0.0"}}},{"type":"page","messageId":"4a5f6e7d-8c9b-4a12-93d4-e5f6a7b8c9d0","anonymousId":"go-anon-1","name":"Docs","timestamp":"2026-12-06T11:09:00.5+01:00","properties":{"url":"https://docs.example.com/"},"context":{"library":{"name":"analytics-go","version":"3.0.0"}}}],"context":{"library":{"name":"analytics-go","version":"3.0.0"}}}"#)
        ],
        events: [
            Event(messageID: "3f4e5d6c-7b8a-4901-82c3-d4e5f6a7b8c9", type: "track", stream: "user:user-go-1"),
            Event(messageID: "4a5f6e7d-8c9b-4a12-93d4-e5f6a7b8c9d0", type: "page", stream: "anonymous:go-anon-1"),
        ], retryRule: .everyFailure)
}
