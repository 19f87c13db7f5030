extension SDKFixture {
    /// `@segment/analytics-node`: `{host}/v1/batch`, JSON, Basic, body `{batch, writeKey, sentAt}`; messageIds
    /// `node-next-<epoch ms>-<uuid>` (`packages/node/src/plugins/segmentio/publisher.ts`, `lib/get-message-id.ts`).
    static let analyticsNode = SDKFixture(
        sdk: "@segment/analytics-node", version: "3.1.0", commit: "segmentio/analytics-next@0c4fa88",
        sources: ["packages/node/src/plugins/segmentio/publisher.ts", "packages/node/src/lib/get-message-id.ts"],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [("Content-Type", "application/json"), ("User-Agent", "analytics-node-next/latest"), ("Authorization", "Basic {basic}")],
                body: #"""
                    {"batch":[{"userId":"user-7","traits":{"email":"grace@example.com"},"type":"identify","options":{},"integrations":{},"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},"messageId":"node-next-1796555340500-6fa3c152-de80-4d7e-9bc9-50e17dc46f8a","timestamp":"2026-12-06T11:09:00.500Z","_metadata":{"nodeVersion":"22.11.0","jsRuntime":"node"}},{"event":"Invoice Paid","properties":{"amount":120.5,"currency":"EUR"},"userId":"user-7","type":"track","options":{},"integrations":{},"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},"messageId":"node-next-1796555340510-70b4d263-ef91-4e8f-acda-61f28ed5709b","timestamp":"2026-12-06T11:09:00.510Z","_metadata":{"nodeVersion":"22.11.0","jsRuntime":"node"}},{"groupId":"initech","traits":{"name":"Initech"},"userId":"user-7","type":"group","options":{},"integrations":{},"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},"messageId":"node-next-1796555340520-81c5f374-f0a2-4f90-bdeb-7203fe6810ac","timestamp":"2026-12-06T11:09:00.520Z","_metadata":{"nodeVersion":"22.11.0","jsRuntime":"node"}}],"writeKey":"{writeKey}","sentAt":"2026-12-06T11:09:01.000Z"}
                    """#)
        ],
        events: [
            Event(messageID: "node-next-1796555340500-6fa3c152-de80-4d7e-9bc9-50e17dc46f8a", type: "identify", stream: "user:user-7"),
            Event(messageID: "node-next-1796555340510-70b4d263-ef91-4e8f-acda-61f28ed5709b", type: "track", stream: "user:user-7"),
            Event(messageID: "node-next-1796555340520-81c5f374-f0a2-4f90-bdeb-7203fe6810ac", type: "group", stream: "user:user-7"),
        ], retryRule: .segment)
}
