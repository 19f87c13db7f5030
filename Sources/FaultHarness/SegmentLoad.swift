import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// One Segment call with the `messageId` that identifies it in the ledgers.
public struct SegmentCall: Sendable {
    public var messageID: String
    /// The call's JSON object, `messageId` included.
    public var json: String

    /// A call given as its JSON object (which must carry `"messageId":` `messageID`).
    public init(messageID: String, json: String) {
        self.messageID = messageID
        self.json = json
    }

    /// An identify call with an email and a first name.
    public static func identify(userID: String, email: String, firstName: String, messageID: String) -> SegmentCall {
        SegmentCall(
            messageID: messageID,
            json: #"{"type":"identify","userId":"\#(userID)","messageId":"\#(messageID)","traits":{"email":"\#(email)","firstName":"\#(firstName)"}}"#
        )
    }

    /// A track call.
    public static func track(userID: String, event: String, messageID: String) -> SegmentCall {
        SegmentCall(
            messageID: messageID,
            json: #"{"type":"track","userId":"\#(userID)","event":"\#(event)","messageId":"\#(messageID)","properties":{"plan":"pro"}}"#)
    }
}

/// What clients were told: the `messageId` of every call answered `200` (stored), and how many requests were tried.
public final class AcknowledgementLedger: Sendable {
    private let state = Mutex<(acknowledged: Set<String>, attempts: Int, failures: Int)>(([], 0, 0))

    public init() {}

    /// The message ids acknowledged so far.
    public var acknowledged: Set<String> { state.withLock { $0.acknowledged } }
    /// Requests sent, retries included.
    public var attempts: Int { state.withLock { $0.attempts } }
    /// Requests that were not acknowledged (connection errors, timeouts, 5xx, 429), each retried.
    public var failures: Int { state.withLock { $0.failures } }

    func record(attempt acknowledged: [String]?) {
        state.withLock {
            $0.attempts += 1
            if let acknowledged { $0.acknowledged.formUnion(acknowledged) } else { $0.failures += 1 }
        }
    }
}

/// Sends Segment calls to `serve` processes the way a client library does: `POST /v1/batch`; a request that is not
/// acknowledged (connection refused or reset, timeout, `5xx`, `429`) is sent again with the same `messageId`s, to the
/// next process in the list, until it is acknowledged or the deadline passes.
public struct SegmentLoad: Sendable {
    public let writeKey: String
    public let ledger: AcknowledgementLedger
    let http: HTTPClient

    public init(writeKey: String, ledger: AcknowledgementLedger = AcknowledgementLedger(), http: HTTPClient = .shared) {
        self.writeKey = writeKey
        self.ledger = ledger
        self.http = http
    }

    /// Sends `calls` as one batch to one of `ports` (a closure, as processes come and go), retrying until acknowledged.
    /// Returns whether it was acknowledged; a `4xx` other than `429` is a client mistake and ends the attempts.
    @discardableResult
    public func send(
        _ calls: [SegmentCall], ports: @Sendable () -> [Int], timeout: Duration = .seconds(10), giveUpAfter: Duration = .seconds(120)
    ) async -> Bool {
        let body = ByteBuffer(string: #"{"batch":["# + calls.map(\.json).joined(separator: ",") + "]}")
        let authorization = "Basic " + Data((writeKey + ":").utf8).base64EncodedString()
        let deadline = ContinuousClock.now + giveUpAfter
        var attempt = 0
        while ContinuousClock.now < deadline {
            let candidates = ports()
            guard !candidates.isEmpty else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let port = candidates[attempt % candidates.count]
            attempt += 1
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/batch")
            request.method = .POST
            request.headers.add(name: "Authorization", value: authorization)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
            do {
                let response = try await http.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
                _ = try await response.body.collect(upTo: 1 << 20)
                switch response.status.code {
                case 200:
                    ledger.record(attempt: calls.map(\.messageID))
                    return true
                case 429, 500...599:
                    ledger.record(attempt: nil)
                default:
                    ledger.record(attempt: nil)
                    return false
                }
            } catch {
                ledger.record(attempt: nil)
            }
            try? await Task.sleep(for: .milliseconds(min(50 * attempt, 1_000)))
        }
        return false
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
