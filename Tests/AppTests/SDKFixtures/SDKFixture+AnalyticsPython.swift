extension SDKFixture {
    /// `segment-analytics-python` with `gzip=True` (the real client runs in `PythonSDKTests` with its default
    /// `gzip=False`): `/v1/batch`, `application/json`, `User-Agent`, `Authorization: Basic` and the key in the body
    /// too, body `{batch, sentAt, writeKey}` (`segment/analytics/request.py` `post`).
    static let analyticsPythonGzip = SDKFixture(
        sdk: "segment-analytics-python (gzip=True)", version: "2.4.0", commit: "PyPI segment-analytics-python 2.4.0",
        sources: ["segment/analytics/request.py", "segment/analytics/client.py"],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [
                    ("Content-Type", "application/json"), ("User-Agent", "analytics-python/2.4.0"), ("Authorization", "Basic {basic}"),
                    ("Content-Encoding", "gzip"),
                ],
                body: #"{"batch": [{"integrations": {}, "anonymousId": null, "properties": {"rows": 3}, "timestamp": "2026-12-06T11:09:00.123+00:00", "context": {"library": {"name": "analytics-python", "version": "2.4.0"}}, "userId": "user-py-gz", "type": "track", "event": "Export Started", "messageId": "9f0e1d2c-3b4a-4f67-a8c9-d0e1f2a3b4c5"}], "sentAt": "2026-12-06T11:09:00.654321+00:00", "writeKey": "{writeKey}"}"#,
                isGzipped: true)
        ],
        events: [Event(messageID: "9f0e1d2c-3b4a-4f67-a8c9-d0e1f2a3b4c5", type: "track", stream: "user:user-py-gz")], retryRule: .segment)
}
