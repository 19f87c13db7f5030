extension SDKFixture {
    /// `analytics-swift` (iOS, macOS, tvOS, watchOS, Linux): uploads a batch file to `https://{apiHost}/b` (`apiHost`
    /// `<host>/v1`) with `Content-Type: application/json; charset=utf-8` and no `Authorization` header: the write key
    /// is the last member of the body (`HTTPClient.swift` `startBatchUpload`, `configuredRequest`). The file is built
    /// line by line (`DirectoryStore.swift`, `LineStream.swift` `writeLine` adds `\n`): `{ "batch": [`, the events
    /// (each after the first prefixed with a comma), then `],"sentAt":…,"writeKey":…}`.
    static let analyticsSwift = SDKFixture(
        sdk: "analytics-swift", version: "1.9.4", commit: "segmentio/analytics-swift@c9a0d63",
        sources: [
            "Sources/Segment/Utilities/Networking/HTTPClient.swift", "Sources/Segment/Utilities/Storage/Types/DirectoryStore.swift",
            "Sources/Segment/Utilities/Storage/Utilities/LineStream.swift", "Sources/Segment/Types.swift",
        ],
        requests: [
            Request(
                path: "/v1/b",
                headers: [("Content-Type", "application/json; charset=utf-8"), ("User-Agent", "analytics-ios/1.9.4"), ("Accept-Encoding", "gzip")],
                body: """
                    { "batch": [
                    {"type":"screen","anonymousId":"B5D0A1C2-3E4F-4A5B-8C6D-7E8F9A0B1C2D","messageId":"0E6A3C1B-2D4F-4E5A-9B8C-1D2E3F4A5B6C","timestamp":"2026-12-06T11:09:00.123Z","context":{"app":{"name":"Shop","version":"4.2","build":"420","namespace":"com.example.shop"},"device":{"manufacturer":"Apple","type":"ios","model":"iPhone16,1"},"os":{"name":"iOS","version":"18.1"},"library":{"name":"analytics-swift","version":"1.9.4"},"locale":"en-US","timezone":"Europe/Berlin","instanceId":"5F1D4C2B-6A3E-4B7C-9D8E-0F1A2B3C4D5E"},"integrations":{},"_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"name":"Catalog","category":"Shop","properties":{}}
                    ,{"type":"identify","anonymousId":"B5D0A1C2-3E4F-4A5B-8C6D-7E8F9A0B1C2D","messageId":"1F7B4D2C-3E5A-4F6B-8C9D-2E3F4A5B6C7D","userId":"user-ios-1","timestamp":"2026-12-06T11:09:01.456Z","context":{"library":{"name":"analytics-swift","version":"1.9.4"},"locale":"en-US"},"integrations":{},"_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"traits":{"email":"ios@example.com"}}
                    ,{"type":"track","anonymousId":"B5D0A1C2-3E4F-4A5B-8C6D-7E8F9A0B1C2D","messageId":"2A8C5E3D-4F6B-4A7C-9DAE-3F4A5B6C7D8E","userId":"user-ios-1","timestamp":"2026-12-06T11:09:02.789Z","context":{"library":{"name":"analytics-swift","version":"1.9.4"},"locale":"en-US"},"integrations":{},"_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"event":"Item Purchased","properties":{"sku":"X-1","price":9.99}}
                    ],"sentAt":"2026-12-06T11:09:05.001Z","writeKey":"{writeKey}"}

                    """)
        ],
        events: [
            Event(messageID: "0E6A3C1B-2D4F-4E5A-9B8C-1D2E3F4A5B6C", type: "screen", stream: "anonymous:B5D0A1C2-3E4F-4A5B-8C6D-7E8F9A0B1C2D"),
            Event(messageID: "1F7B4D2C-3E5A-4F6B-8C9D-2E3F4A5B6C7D", type: "identify", stream: "user:user-ios-1"),
            Event(messageID: "2A8C5E3D-4F6B-4A7C-9DAE-3F4A5B6C7D8E", type: "track", stream: "user:user-ios-1"),
        ], retryRule: .segment)
}
