extension SDKFixture {
    /// `@segment/analytics-react-native`: `fetch` to its endpoint (default `https://api.segment.io/v1/b`; with `proxy`
    /// and `useSegmentEndpoints`, `<proxy>/b`), `Content-Type: application/json; charset=utf-8`, `keepalive`, no
    /// `Authorization` header, body `{batch, sentAt, writeKey}` (`packages/core/src/api.ts`, `constants.ts`,
    /// `plugins/SegmentDestination.ts`).
    static let analyticsReactNative = SDKFixture(
        sdk: "@segment/analytics-react-native", version: "2.21.4", commit: "segmentio/analytics-react-native@74884be",
        sources: ["packages/core/src/api.ts", "packages/core/src/constants.ts", "packages/core/src/plugins/SegmentDestination.ts"],
        requests: [
            Request(
                path: "/v1/b", headers: [("Content-Type", "application/json; charset=utf-8")],
                body: #"{"batch":[{"type":"screen","name":"Checkout","properties":{"step":2},"messageId":"3b9d6f4e-5a7c-4b8d-aebf-4a5b6c7d8e9f","timestamp":"2026-12-06T11:09:00.321Z","anonymousId":"e2f3a4b5-c6d7-4e8f-9a0b-1c2d3e4f5a6b","context":{"app":{"build":"88","name":"ShopRN","namespace":"com.example.shoprn","version":"2.0.0"},"device":{"manufacturer":"Apple","model":"iPhone15,2","type":"ios"},"library":{"name":"analytics-react-native","version":"2.21.4"},"locale":"en-US","os":{"name":"iOS","version":"18.1"},"timezone":"Europe/Berlin","traits":{}},"integrations":{},"_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]}},{"type":"alias","userId":"user-rn-1","previousId":"e2f3a4b5-c6d7-4e8f-9a0b-1c2d3e4f5a6b","messageId":"4cae7a5f-6b8d-4c9e-bfc0-5b6c7d8e9fa0","timestamp":"2026-12-06T11:09:01.654Z","anonymousId":"e2f3a4b5-c6d7-4e8f-9a0b-1c2d3e4f5a6b","context":{"library":{"name":"analytics-react-native","version":"2.21.4"}},"integrations":{},"_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]}}],"sentAt":"2026-12-06T11:09:02.000Z","writeKey":"{writeKey}"}"#)
        ],
        events: [
            Event(messageID: "3b9d6f4e-5a7c-4b8d-aebf-4a5b6c7d8e9f", type: "screen", stream: "anonymous:e2f3a4b5-c6d7-4e8f-9a0b-1c2d3e4f5a6b"),
            Event(messageID: "4cae7a5f-6b8d-4c9e-bfc0-5b6c7d8e9fa0", type: "alias", stream: "user:user-rn-1"),
        ], retryRule: .segment)
}
