extension SDKFixture {
    /// `Analytics-CSharp` (.NET, Unity, Xamarin): a gzipped batch file to `https://{apiHost}/b` as a `StreamContent`
    /// with `Content-Encoding: gzip` and NO `Content-Type` at all, `Accept: text/plain`, `Connection: close`, no
    /// `Authorization` (`HTTPClient.cs` `DoPost`); the file ends with `"sentAt"` in .NET's round-trip format (seven
    /// fractional digits) and `"writeKey"` (`Storage.cs` `Begin`/`End`).
    static let analyticsCSharp = SDKFixture(
        sdk: "Segment.Analytics.CSharp", version: "2.6.0", commit: "segmentio/Analytics-CSharp@f7fc185",
        sources: ["Analytics-CSharp/Segment/Analytics/Utilities/HTTPClient.cs", "Analytics-CSharp/Segment/Analytics/Utilities/Storage.cs"],
        requests: [
            Request(
                path: "/v1/b", headers: [("Connection", "close"), ("Accept", "text/plain"), ("Content-Encoding", "gzip")],
                body: #"{"batch":[{"properties":{"level":3},"event":"Level Completed","type":"track","messageId":"8f0e1d2c-3b4a-4596-8778-695a4b3c2d1e","anonymousId":"5d4c3b2a-1908-4f7e-8d6c-5b4a39281706","integrations":{},"context":{"library":{"name":"Analytics-CSharp","version":"2.6.0"},"os":{"name":"Unix 6.8.0"},"locale":"en-US","timezone":"Europe/Berlin","instanceId":"9a8b7c6d-5e4f-4321-8fed-cba987654321"},"userId":"","timestamp":"2026-12-06T11:09:00.1234567Z","_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]}},{"userId":"player-9","traits":{"name":"Player Nine"},"type":"identify","messageId":"9a1f2e3d-4c5b-46a7-8988-7a6b5c4d3e2f","anonymousId":"5d4c3b2a-1908-4f7e-8d6c-5b4a39281706","integrations":{},"context":{"library":{"name":"Analytics-CSharp","version":"2.6.0"}},"timestamp":"2026-12-06T11:09:01.7654321Z","_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]}}],"sentAt":"2026-12-06T11:09:30.0000001Z","writeKey":"{writeKey}"}"#,
                isGzipped: true)
        ],
        events: [
            Event(messageID: "8f0e1d2c-3b4a-4596-8778-695a4b3c2d1e", type: "track", stream: "anonymous:5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"),
            Event(messageID: "9a1f2e3d-4c5b-46a7-8988-7a6b5c4d3e2f", type: "identify", stream: "user:player-9"),
        ], retryRule: .rateLimitAndServerErrors)
}
