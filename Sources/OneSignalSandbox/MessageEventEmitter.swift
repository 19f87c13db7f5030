import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Sends message events the way a OneSignal Event Stream does (§8.1): one event per POST, JSON body from the stream's
/// template, a static secret header, at-least-once delivery with retries on `429`, `5xx` and transport errors.
public final class MessageEventEmitter: Sendable {
    /// A static header of the stream, e.g. `Authorization: Bearer <secret>`.
    public struct Header: Sendable, Equatable {
        /// The header name.
        public var name: String
        /// The header value.
        public var value: String

        /// A header `name: value`.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One attempt to deliver an event, as recorded.
    public struct Delivery: Sendable, Equatable {
        /// The event sent.
        public let event: MessageEvent
        /// Where it was sent.
        public let url: URL
        /// The body sent.
        public let body: String
        /// The status of the last attempt, or `nil` when no attempt got an answer.
        public let status: Int?
        /// How many attempts were made.
        public let attempts: Int
    }

    /// Attempts per event, the first included.
    let maximumAttempts: Int
    /// The wait before the first retry; doubled for each further one.
    let firstRetryDelay: Duration
    private let deliveries = Mutex<[Delivery]>([])
    private let logger: Logger

    init(logger: Logger, maximumAttempts: Int = 4, firstRetryDelay: Duration = .milliseconds(200)) {
        self.logger = logger
        self.maximumAttempts = maximumAttempts
        self.firstRetryDelay = firstRetryDelay
    }

    /// Every delivery so far, oldest first.
    public var all: [Delivery] {
        deliveries.withLock { $0 }
    }

    /// POSTs `event`, rendered with `template`, to `url` with `header`; retries until a `2xx`, a `4xx` other than
    /// `429`, or the last attempt.
    ///
    /// - Returns: the delivery; its `status` is `nil` when no attempt got an answer.
    @discardableResult
    func send(_ event: MessageEvent, to url: URL, header: Header, template: MessageEventTemplate) async -> Delivery {
        let bytes = (try? template.render(event).serialized()) ?? []
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: header.name, value: header.value)
        request.body = .bytes(ByteBuffer(bytes: bytes))
        var status: Int?
        var attempts = 0
        var delay = firstRetryDelay
        while attempts < maximumAttempts {
            attempts += 1
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 1 << 20)
                status = Int(response.status.code)
            } catch {
                status = nil
                logger.debug("message event delivery failed", metadata: ["url": "\(url)", "error": "\(error)"])
            }
            if let status, (200..<300).contains(status) || ((400..<500).contains(status) && status != 429) { break }
            if attempts < maximumAttempts {
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
        let delivery = Delivery(
            event: event, url: url, body: String(decoding: bytes, as: UTF8.self), status: status, attempts: attempts)
        deliveries.withLock { $0.append(delivery) }
        return delivery
    }

    /// The event of `kind` about `notification` reaching `recipient` (both optional: their fields are then empty;
    /// `messageID` stands in for the id of a notification the sandbox does not have).
    static func event(
        kind: String, notification: OneSignalNotification?, messageID: String? = nil,
        recipient: OneSignalNotification.Recipient?, appID: String, externalID: String, failureReason: String
    ) -> MessageEvent {
        MessageEvent(
            kind: MessageEvent.fullKind(kind, channel: notification?.channel ?? "push"), date: Date(), appID: appID,
            externalID: externalID, onesignalID: recipient?.onesignalID ?? "", subscriptionID: recipient?.subscriptionID ?? "",
            deviceType: recipient.flatMap { OneSignalSubscription.deviceTypes[$0.subscriptionType] } ?? "",
            failureReason: failureReason, messageID: notification?.id ?? messageID ?? "", messageName: notification?.name ?? "",
            templateID: notification?.templateID ?? "", title: notification?.headings?["en"] ?? "",
            url: notification?.url ?? "")
    }

    /// Sends `stream.kinds` for every recipient of `notification`, in order.
    func emitAutomatically(
        for notification: OneSignalNotification, stream: OneSignalSandbox.Configuration.MessageEventStream
    ) async {
        for recipient in notification.recipients {
            for kind in stream.kinds {
                let event = Self.event(
                    kind: kind, notification: notification, recipient: recipient, appID: notification.appID,
                    externalID: recipient.externalID ?? "", failureReason: "")
                await send(event, to: stream.url, header: stream.secretHeader, template: stream.template)
            }
        }
    }
}
