import Foundation

extension SDKFixture {
    /// The browser library's events as `normalize` leaves them (`packages/browser/src/plugins/segmentio/normalize.ts`):
    /// `writeKey`, `sentAt` and `_metadata` in every event, `context.library` `analytics.js` `npm:next-<version>`,
    /// `userId` null until identify, messageIds `ajs-next-<epoch ms>-<uuid>`.
    private enum Browser {
        static let anonymousID = "6f1c2b9e-4d8a-4c3e-9b1f-2a7e5d0c8b41"
        static let context = #"{"page":{"path":"/pricing","referrer":"https://www.example.org/","search":"?utm_source=news","title":"Pricing","url":"https://shop.example.com/pricing?utm_source=news"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","locale":"en-US","library":{"name":"analytics.js","version":"npm:next-1.84.1"},"campaign":{"source":"news"}}"#
        static let metadata = #""_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]}"#

        static let track = #"{"event":"Plan Viewed","type":"track","properties":{"plan":"pro","price":49},"options":{},"integrations":{},"context":\#(context),"messageId":"ajs-next-1796555340123-1a5e7c0d-8f3b-4e29-a6d4-0b9c2e7f1a35","anonymousId":"\#(anonymousID)","userId":null,"sentAt":"2026-12-06T11:09:00.130Z","timestamp":"2026-12-06T11:09:00.123Z","writeKey":"{writeKey}",\#(metadata)}"#
        static let identify = #"{"userId":"user-42","traits":{"email":"ada@example.com","name":"Ada Lovelace"},"type":"identify","options":{},"integrations":{},"context":\#(context),"messageId":"ajs-next-1796555341200-2b6f8d1e-9a4c-4f3a-b7e5-1cad3f802b46","anonymousId":"\#(anonymousID)","sentAt":"2026-12-06T11:09:01.205Z","timestamp":"2026-12-06T11:09:01.200Z","writeKey":"{writeKey}",\#(metadata)}"#
        static let page = #"{"properties":{"path":"/pricing","referrer":"https://www.example.org/","search":"?utm_source=news","title":"Pricing","url":"https://shop.example.com/pricing?utm_source=news"},"category":null,"name":"Pricing","type":"page","options":{},"integrations":{},"context":\#(context),"messageId":"ajs-next-1796555342010-3c709e2f-ab5d-4a4b-88f6-2dbe4a913c57","anonymousId":"\#(anonymousID)","userId":"user-42","sentAt":"2026-12-06T11:09:02.012Z","timestamp":"2026-12-06T11:09:02.010Z","writeKey":"{writeKey}",\#(metadata)}"#
        static let group = #"{"groupId":"acme","traits":{"name":"Acme Inc","plan":"enterprise"},"type":"group","options":{},"integrations":{},"context":\#(context),"messageId":"ajs-next-1796555343300-4d81af30-bc6e-4b5c-99a7-3ecf5ba24d68","anonymousId":"\#(anonymousID)","userId":"user-42","sentAt":"2026-12-06T11:09:03.301Z","timestamp":"2026-12-06T11:09:03.300Z","writeKey":"{writeKey}",\#(metadata)}"#
        static let alias = #"{"userId":"user-42","previousId":"\#(anonymousID)","type":"alias","options":{},"integrations":{},"context":\#(context),"messageId":"ajs-next-1796555344400-5e92b041-cd7f-4c6d-aab8-4fd06cb35e79","anonymousId":"\#(anonymousID)","sentAt":"2026-12-06T11:09:04.402Z","timestamp":"2026-12-06T11:09:04.400Z","writeKey":"{writeKey}",\#(metadata)}"#

        /// A call's event without its own `sentAt`, as the batching dispatcher strips it.
        static func withoutSentAt(_ event: String) -> String {
            event.replacingOccurrences(of: #","sentAt":"[^"]*""#, with: "", options: .regularExpression)
        }

        static let events: [Event] = [
            Event(messageID: "ajs-next-1796555340123-1a5e7c0d-8f3b-4e29-a6d4-0b9c2e7f1a35", type: "track", stream: "anonymous:" + anonymousID),
            Event(messageID: "ajs-next-1796555341200-2b6f8d1e-9a4c-4f3a-b7e5-1cad3f802b46", type: "identify", stream: "user:user-42"),
            Event(messageID: "ajs-next-1796555342010-3c709e2f-ab5d-4a4b-88f6-2dbe4a913c57", type: "page", stream: "user:user-42"),
            Event(messageID: "ajs-next-1796555343300-4d81af30-bc6e-4b5c-99a7-3ecf5ba24d68", type: "group", stream: "user:user-42"),
            Event(messageID: "ajs-next-1796555344400-5e92b041-cd7f-4c6d-aab8-4fd06cb35e79", type: "alias", stream: "user:user-42"),
        ]
    }

    /// `@segment/analytics-next` in its default ("standard") delivery: one `fetch` per call to `{apiHost}/{first letter
    /// of the type}` with `Content-Type: text/plain` and, since the retry rework, `Authorization: Basic` from the
    /// event's writeKey (`fetch-dispatcher.ts`). `apiHost` is `<host>/v1`, as Segment's default `api.segment.io/v1`.
    static let analyticsNextStandard = SDKFixture(
        sdk: "@segment/analytics-next (standard)", version: "1.84.1", commit: "segmentio/analytics-next@0c4fa88",
        sources: [
            "packages/browser/src/plugins/segmentio/index.ts", "packages/browser/src/plugins/segmentio/fetch-dispatcher.ts",
            "packages/browser/src/plugins/segmentio/shared-dispatcher.ts", "packages/browser/src/plugins/segmentio/normalize.ts",
        ],
        requests: [("t", Browser.track), ("i", Browser.identify), ("p", Browser.page), ("g", Browser.group), ("a", Browser.alias)].map {
            letter, body in
            Request(path: "/v1/" + letter, headers: [("Origin", pageOrigin), ("Content-Type", "text/plain"), ("Authorization", "Basic {basic}")], body: body)
        },
        events: Browser.events, retryRule: .segment)

    /// `@segment/analytics-next` before its retry rework (#1342), the version many pages still load: the same paths
    /// and bodies, `Content-Type: text/plain` and no `Authorization` header — a CORS "simple" request, the write key in
    /// the body only; 5xx and 429 retried (`x-ratelimit-reset` read as seconds to wait), every other answer taken as
    /// delivered (`fetch-dispatcher.ts` at c91efe3, the last change before the rework).
    static let analyticsNextBeforeRetryRework = SDKFixture(
        sdk: "@segment/analytics-next (standard, before the retry rework)", version: "1.83.0",
        commit: "segmentio/analytics-next@ef93c3b",
        sources: ["packages/browser/src/plugins/segmentio/fetch-dispatcher.ts", "packages/browser/src/plugins/segmentio/shared-dispatcher.ts"],
        requests: [("t", Browser.track), ("i", Browser.identify), ("p", Browser.page), ("g", Browser.group), ("a", Browser.alias)].map {
            letter, body in
            Request(
                path: "/v1/" + letter, headers: [("Origin", pageOrigin), ("Content-Type", "text/plain")],
                body: body.replacingOccurrences(of: "npm:next-1.84.1", with: "npm:next-1.83.0"))
        },
        events: Browser.events, retryRule: .rateLimitAndServerErrors)

    /// `@segment/analytics-next` with `deliveryStrategy: {strategy: "batching"}`: `{apiHost}/b`, text/plain, Basic from
    /// the first event's writeKey, body `{writeKey, batch, sentAt}` with each event's own `sentAt` removed
    /// (`batched-dispatcher.ts`).
    static let analyticsNextBatching = SDKFixture(
        sdk: "@segment/analytics-next (batching)", version: "1.84.1", commit: "segmentio/analytics-next@0c4fa88",
        sources: ["packages/browser/src/plugins/segmentio/batched-dispatcher.ts", "packages/browser/src/plugins/segmentio/shared-dispatcher.ts"],
        requests: [
            Request(
                path: "/v1/b", headers: [("Origin", pageOrigin), ("Content-Type", "text/plain"), ("Authorization", "Basic {basic}")],
                body: #"{"writeKey":"{writeKey}","batch":["#
                    + [Browser.track, Browser.identify, Browser.page, Browser.group, Browser.alias].map(Browser.withoutSentAt).joined(separator: ",")
                    + #"],"sentAt":"2026-12-06T11:09:05.000Z"}"#)
        ],
        events: Browser.events, retryRule: .segment)

}
