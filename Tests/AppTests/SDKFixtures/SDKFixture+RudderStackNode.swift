extension SDKFixture {
    /// RudderStack's Node SDK (`@rudderstack/rudder-sdk-node`): axios POST to `{dataPlaneUrl}/v1/batch` with
    /// `auth: {username: writeKey}` (Basic `"<key>:"`), gzip on by default, body `{batch, timestamp, sentAt}`
    /// (`src/index.js` `flush`). The gzipped body is a Buffer, which axios 1.x (`package.json`: 1.18.1) sends without a
    /// `Content-Type`.
    static let rudderNode = SDKFixture(
        sdk: "@rudderstack/rudder-sdk-node", version: "3.0.12", commit: "rudderlabs/rudder-sdk-node@79b24cf",
        sources: ["src/index.js"],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [
                    ("Accept", "application/json, text/plain, */*"), ("user-agent", "analytics-node/3.0.12"),
                    ("Content-Encoding", "gzip"), ("Authorization", "Basic {basic}"),
                ],
                body: #"{"batch":[{"userId":"user-rsn-1","event":"Order Shipped","properties":{"carrier":"DHL"},"context":{"library":{"name":"analytics-node","version":"3.0.12"}},"type":"track","_metadata":{"nodeVersion":"22.11.0"},"originalTimestamp":"2026-12-06T11:09:00.000Z","messageId":"node-1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f-c9d0e1f2-a3b4-4c5d-8e7f-8091a2b3c4d5","sentAt":"2026-12-06T11:09:01.000Z"}],"timestamp":"2026-12-06T11:09:01.000Z","sentAt":"2026-12-06T11:09:01.000Z"}"#,
                isGzipped: true)
        ],
        events: [
            Event(
                messageID: "node-1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f-c9d0e1f2-a3b4-4c5d-8e7f-8091a2b3c4d5", type: "track", stream: "user:user-rsn-1")
        ], retryRule: .rateLimitAndServerErrors)
}
