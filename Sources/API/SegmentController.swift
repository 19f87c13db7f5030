import Domain
import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Ingestion
import Logging
import Metrics
import NIOCore
import PQ

/// The Segment-compatible HTTP Tracking API: `POST /v1/{identify,track,page,screen,group,alias,batch,import}`.
///
/// A request is answered `200 {"success": true}` only after its events are committed to the log. Retried requests
/// (same `messageId`s, same write key) store nothing twice and are answered `200` again; idempotency keys are scoped by
/// the write key's id, so another source's message with the same `messageId` is stored too. In a batch, invalid
/// messages are recorded in `rejections` and listed in the response while the valid ones are stored; with
/// `X-Strict-Mode: 1`, any invalid message fails the whole request with `400` and nothing is stored.
public struct SegmentController: Sendable {
    let intake: EventIntake
    let writeKeys: WriteKeys

    public init(store: EventStore, writeKeys: WriteKeys, metricsFactory: (any MetricsFactory)? = nil) {
        self.intake = EventIntake(store: store, metricsFactory: metricsFactory)
        self.writeKeys = writeKeys
    }

    /// Adds the routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        for type in SegmentMessageType.allCases {
            router.post("v1/\(type.rawValue)") { request, context in
                await handle(request, context: context, endpoint: .single(type), path: "/v1/\(type.rawValue)")
            }
        }
        for path in ["batch", "import"] {
            router.post("v1/\(path)") { request, context in
                await handle(request, context: context, endpoint: .batch, path: "/v1/\(path)")
            }
        }
    }

    /// The response body of an accepted request.
    struct Accepted: Encodable {
        var success = true
        var rejected: [RejectedMessage]?
    }

    func handle(_ request: Request, context: some RequestContext, endpoint: SegmentEndpoint, path: String) async -> Response {
        let receivedAt = Date()
        var logger = context.logger
        logger[metadataKey: "http.route"] = "\(path)"

        // Authenticate from the header before reading anything else, when the client sends one.
        var writeKeyID: String?
        if let authorization = request.headers[.authorization] {
            guard let key = Self.basicUser(authorization), let id = writeKeys.id(of: key) else {
                return JSONResponse.error(Self.unauthorized)
            }
            writeKeyID = id
        }

        let body: ByteBuffer
        do {
            body = try await RequestBody.collect(request, limit: SegmentNormalizer.maximumRequestBytes)
        } catch {
            return JSONResponse.error(error)
        }
        // Without the header, authenticate from the body's writeKey before normalizing anything: an unauthenticated
        // request costs one scan of its body, and learns nothing about it but 401.
        if writeKeyID == nil {
            guard let key = body.withUnsafeReadableBytes({ SegmentNormalizer.bodyWriteKey($0) }), let id = writeKeys.id(of: key) else {
                return JSONResponse.error(Self.unauthorized)
            }
            writeKeyID = id
        }
        logger[metadataKey: "hubsignal.write_key_id"] = "\(writeKeyID!)"

        let result: SegmentNormalizer.Result
        do {
            result = try body.withUnsafeReadableBytes { bytes in
                Result { () throws(IngestionError) in try SegmentNormalizer.normalize(bytes, endpoint: endpoint, receivedAt: receivedAt) }
            }.get()
        } catch {
            return JSONResponse.error(error)
        }

        if !result.rejected.isEmpty, request.headers[Self.strictModeHeader] == "1" {
            return JSONResponse.error(
                IngestionError(
                    status: 400, code: "invalid_messages",
                    message: "\(result.rejected.count) message(s) are invalid and strict mode is on: nothing was stored"),
                rejected: result.rejected)
        }

        let metadata = EventIntake.metadata(["writeKeyID": writeKeyID!, "requestID": context.id, "endpoint": path])
        let events = result.accepted.map { message in
            NewEvent(
                stream: message.stream, type: .segment(message.type.rawValue), source: .segment,
                idempotencyKey: WriteKeys.idempotencyKey(messageID: message.messageID, writeKeyID: writeKeyID!),
                occurredAt: message.occurredAt, payload: PQJSONB(bytes: message.payload),
                metadata: metadata)
        }
        do {
            try await intake.store(
                events, rejected: result.rejected, source: .segment, endpoint: path, writeKeyID: writeKeyID, requestID: context.id)
        } catch {
            logger.error("storing a Segment request failed", metadata: ["error": "\(error)"])
            return JSONResponse.storageFailure(error)
        }
        if !result.rejected.isEmpty {
            logger.info("stored a batch with rejected messages", metadata: ["ingest.rejected": "\(result.rejected.count)"])
        }
        return JSONResponse.make(status: .ok, body: Accepted(rejected: result.rejected.isEmpty ? nil : result.rejected))
    }

    static let strictModeHeader = HTTPField.Name("X-Strict-Mode")!

    static let unauthorized = IngestionError(
        status: 401, code: "unauthorized",
        message: "a valid write key is required: HTTP Basic with the write key as the user name, or \"writeKey\" in the body")

    /// The user name of an HTTP Basic `Authorization` header (Segment's write key; the password is empty).
    static func basicUser(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8)
        else { return nil }
        let user = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return user.isEmpty ? nil : user
    }
}
