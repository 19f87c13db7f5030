extension SDKFixture {
    /// RudderStack's JavaScript SDK v3 (`@rudderstack/analytics-js`), default XHR queue: one request per event to
    /// `{dataPlaneUrl}/v1/{type}` with `Content-Type: application/json;charset=UTF-8`, Basic auth and an
    /// `AnonymousId` header (`packages/analytics-js-plugins/src/xhrQueue/index.ts`, `xhrQueue/utilities.ts`,
    /// `packages/analytics-js/src/services/HttpClient/xhr/xhrRequestHandler.ts`); events carry `channel: "web"`,
    /// `originalTimestamp`, `sentAt` and an empty `userId` before identify (`eventManager/utilities.ts`).
    static let rudderJS = SDKFixture(
        sdk: "@rudderstack/analytics-js (XHR)", version: "3.31.6", commit: "rudderlabs/rudder-sdk-js@eecb517",
        sources: [
            "packages/analytics-js-plugins/src/xhrQueue/index.ts", "packages/analytics-js-plugins/src/xhrQueue/utilities.ts",
            "packages/analytics-js/src/services/HttpClient/xhr/xhrRequestHandler.ts",
            "packages/analytics-js/src/components/eventManager/utilities.ts",
        ],
        requests: [
            Request(
                path: "/v1/page",
                headers: [("Origin", pageOrigin), ("Content-Type", "application/json;charset=UTF-8"), ("Authorization", "Basic {basic}"), anonymousIDHeader("rs-anon-1")],
                body: #"{"type":"page","name":"Home","category":null,"properties":{"name":"Home","path":"/","referrer":"$direct","referring_domain":"","search":"","title":"Home","url":"https://www.example.com/","tab_url":"https://www.example.com/","initial_referrer":"$direct","initial_referring_domain":""},"channel":"web","context":{"traits":{},"sessionId":1796555339000,"sessionStart":true,"app":{"name":"RudderLabs JavaScript SDK","namespace":"com.rudderlabs.javascript","version":"3.31.6","installType":"npm"},"library":{"name":"RudderLabs JavaScript SDK","version":"3.31.6"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","os":{"name":"","version":""},"locale":"en-US","screen":{"width":1920,"height":1080,"density":1,"innerWidth":1280,"innerHeight":720},"campaign":{},"page":{"path":"/","referrer":"$direct","referring_domain":"","search":"","title":"Home","url":"https://www.example.com/","tab_url":"https://www.example.com/","initial_referrer":"$direct","initial_referring_domain":""},"timezone":"GMT+0100"},"originalTimestamp":"2026-12-06T11:09:00.100Z","integrations":{"All":true},"messageId":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","userId":"","anonymousId":"rs-anon-1","event":null,"sentAt":"2026-12-06T11:09:00.105Z"}"#),
            Request(
                path: "/v1/identify",
                headers: [("Origin", pageOrigin), ("Content-Type", "application/json;charset=UTF-8"), ("Authorization", "Basic {basic}"), anonymousIDHeader("rs-anon-1")],
                body: #"{"type":"identify","channel":"web","context":{"traits":{"email":"rs@example.com"},"library":{"name":"RudderLabs JavaScript SDK","version":"3.31.6"},"locale":"en-US"},"originalTimestamp":"2026-12-06T11:09:01.100Z","integrations":{"All":true},"messageId":"b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e","userId":"user-rs-1","anonymousId":"rs-anon-1","event":null,"sentAt":"2026-12-06T11:09:01.102Z"}"#),
            Request(
                path: "/v1/track",
                headers: [("Origin", pageOrigin), ("Content-Type", "application/json;charset=UTF-8"), ("Authorization", "Basic {basic}"), anonymousIDHeader("rs-anon-1")],
                body: #"{"type":"track","event":"Cart Viewed","properties":{"items":2},"channel":"web","context":{"traits":{"email":"rs@example.com"},"library":{"name":"RudderLabs JavaScript SDK","version":"3.31.6"},"locale":"en-US"},"originalTimestamp":"2026-12-06T11:09:02.100Z","integrations":{"All":true},"messageId":"c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f","userId":"user-rs-1","anonymousId":"rs-anon-1","sentAt":"2026-12-06T11:09:02.101Z"}"#),
        ],
        events: [
            Event(messageID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", type: "page", stream: "anonymous:rs-anon-1"),
            Event(messageID: "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", type: "identify", stream: "user:user-rs-1"),
            Event(messageID: "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f", type: "track", stream: "user:user-rs-1"),
        ], retryRule: .rateLimitAndNon4xx)

    /// RudderStack's JavaScript SDK v3 with `useBeacon: true`: `navigator.sendBeacon` of a `text/plain` Blob to
    /// `{dataPlaneUrl}/beacon/v1/batch?writeKey=<key>`; no `Authorization` header (a beacon cannot carry one), the
    /// key is in the query; body `{batch, sentAt}` (`packages/analytics-js-plugins/src/beaconQueue/index.ts`,
    /// `beaconQueue/utilities.ts` `getDeliveryUrl`, `getBatchDeliveryPayload`). The browser sends a Blob of type
    /// `text/plain` as `text/plain;charset=UTF-8`.
    static let rudderJSBeacon = SDKFixture(
        sdk: "@rudderstack/analytics-js (beacon)", version: "3.31.6", commit: "rudderlabs/rudder-sdk-js@eecb517",
        sources: ["packages/analytics-js-plugins/src/beaconQueue/index.ts", "packages/analytics-js-plugins/src/beaconQueue/utilities.ts"],
        requests: [
            Request(
                path: "/beacon/v1/batch?writeKey={writeKey}", headers: [("Origin", pageOrigin), ("Content-Type", "text/plain;charset=UTF-8")],
                body: #"{"batch":[{"type":"track","event":"Tab Closed","properties":{},"channel":"web","context":{"traits":{},"library":{"name":"RudderLabs JavaScript SDK","version":"3.31.6"},"locale":"en-US"},"originalTimestamp":"2026-12-06T11:09:03.000Z","integrations":{"All":true},"messageId":"d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f80","userId":"","anonymousId":"rs-anon-2","sentAt":"2026-12-06T11:09:03.010Z"},{"type":"page","name":"Pricing","properties":{"path":"/pricing","url":"https://www.example.com/pricing"},"channel":"web","context":{"traits":{},"library":{"name":"RudderLabs JavaScript SDK","version":"3.31.6"},"locale":"en-US"},"originalTimestamp":"2026-12-06T11:09:02.500Z","integrations":{"All":true},"messageId":"e5f6a7b8-c9d0-4e1f-8a3b-4c5d6e7f8091","userId":"","anonymousId":"rs-anon-2","sentAt":"2026-12-06T11:09:03.010Z"}],"sentAt":"2026-12-06T11:09:03.010Z"}"#)
        ],
        events: [
            Event(messageID: "d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f80", type: "track", stream: "anonymous:rs-anon-2"),
            Event(messageID: "e5f6a7b8-c9d0-4e1f-8a3b-4c5d6e7f8091", type: "page", stream: "anonymous:rs-anon-2"),
        ], retryRule: .unread)




}
