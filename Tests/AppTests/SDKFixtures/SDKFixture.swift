import CompressNIO
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// One Segment or RudderStack SDK's requests exactly as its source builds them (method, path, headers, body bytes,
/// compression), with the SDK, its version and the commit read, and the events HubSignal must store from them.
///
/// A fixture is written from the SDK's source, never from HubSignal's expectations: key order, the members the SDK adds
/// (`_metadata`, `channel`, a per-message `sentAt`), an empty `userId` where the SDK sends one, its timestamp format
/// and the way it joins stored events into a body (a newline after `"batch": [`) are kept. In a fixture's text,
/// `{writeKey}` stands for the test server's write key and `{basic}` for `base64("<write key>:")`. The browser SDKs'
/// requests also carry the `Origin` header the browser adds (`pageOrigin`), for fetch, XHR and `sendBeacon` alike.
struct SDKFixture: Sendable, CustomTestStringConvertible {
    /// One HTTP request of the SDK.
    struct Request: Sendable {
        var method: HTTPRequest.Method = .post
        /// The path, and the query where the SDK sends one.
        var path: String
        var headers: [(name: String, value: String)]
        var body: String
        /// Whether the SDK gzips the body (and says so with `Content-Encoding: gzip`).
        var isGzipped = false
    }

    /// An event the requests carry: stored exactly once, as this type, on this stream.
    struct Event: Sendable {
        var messageID: String
        var type: String
        var stream: String
    }

    /// The origin of the page the browser SDKs run on, allowed for the test server's write key.
    static let pageOrigin = "https://shop.example.com"

    /// Which failed answers the SDK sends again, as its source decides (docs/sdks.md quotes each).
    enum RetryRule: Sendable {
        /// Segment's current rule: 408, 410, 429, 460 and every 5xx but 501, 505 and 511; every other 4xx dropped.
        case segment
        /// 429 and 5xx; every other 4xx dropped.
        case rateLimitAndServerErrors
        /// 429 and every status outside 400–499 (RudderStack JavaScript).
        case rateLimitAndNon4xx
        /// Every status from 300 up, a bounded number of times (analytics-go v3, RudderStack Go: 10 attempts).
        case everyFailure
        /// Everything but 200, on every flush until it is 200 (RudderStack Android and iOS).
        case untilOK
        /// The answer is never read (`navigator.sendBeacon`).
        case unread

        /// Whether the SDK sends a request answered `status` again.
        func retries(_ status: Int) -> Bool {
            switch self {
            case .segment:
                return [408, 410, 429, 460].contains(status) || ((500..<600).contains(status) && ![501, 505, 511].contains(status))
            case .rateLimitAndServerErrors: return status == 429 || (500..<600).contains(status)
            case .rateLimitAndNon4xx: return status == 429 || !(400..<500).contains(status) && status >= 300
            case .everyFailure: return status >= 300
            case .untilOK: return status != 200
            case .unread: return false
            }
        }

        /// Whether some failed answer makes the SDK drop a request (not so for SDKs that resend whatever fails).
        var dropsRefusals: Bool { self != .everyFailure && self != .untilOK }
    }

    /// The SDK's package name as its users know it.
    var sdk: String
    /// The version the source read declares.
    var version: String
    /// `owner/repository@commit` of the source read.
    var commit: String
    /// The files of that commit the requests come from.
    var sources: [String]
    var requests: [Request]
    var events: [Event]
    var retryRule: RetryRule

    var testDescription: String { "\(sdk) \(version)" }

    /// `text` with the placeholders replaced for `writeKey`.
    static func filled(_ text: String, writeKey: String) -> String {
        text.replacingOccurrences(of: "{writeKey}", with: writeKey)
            .replacingOccurrences(of: "{basic}", with: Data((writeKey + ":").utf8).base64EncodedString())
    }

    /// `request`'s headers and body bytes for `writeKey`, gzipped when the SDK gzips.
    static func wire(_ request: Request, writeKey: String) throws -> (headers: HTTPFields, body: ByteBuffer) {
        var headers = HTTPFields()
        for (name, value) in request.headers {
            headers.append(HTTPField(name: HTTPField.Name(name)!, value: filled(value, writeKey: writeKey)))
        }
        var body = ByteBuffer(string: filled(request.body, writeKey: writeKey))
        if request.isGzipped {
            body = try body.compress(with: .gzip())
        }
        return (headers, body)
    }

    /// The base64 `AnonymousId` header the RudderStack SDKs send next to Basic auth (their data plane orders a user's
    /// events by it).
    static func anonymousIDHeader(_ anonymousID: String) -> (name: String, value: String) {
        ("AnonymousId", Data(anonymousID.utf8).base64EncodedString())
    }

    /// The fixture of every SDK in docs/sdks.md.
    static let all: [SDKFixture] = [
        analyticsNextStandard, analyticsNextBeforeRetryRework, analyticsNextBatching, analyticsNode, analyticsSwift, analyticsKotlin,
        analyticsReactNative, analyticsJava, analyticsGo, analyticsRuby, analyticsPHP, analyticsCSharp,
        analyticsPythonGzip, rudderJS, rudderJSBeacon, rudderAndroid, rudderIOS, rudderNode, rudderGo,
    ]
}
