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

/// The Segment-compatible HTTP Tracking API, on every path the Segment and RudderStack SDKs post to, and the source
/// settings the SDKs load before sending.
///
/// Paths (all `POST`): `/v1/{identify,track,page,screen,group,alias}` and their one-letter forms `/v1/{i,t,p,s,g,a}`
/// (analytics-next), `/v1/batch`, `/v1/import` and `/v1/b` (analytics-next's batching mode, analytics-swift,
/// analytics-kotlin, analytics-react-native), and `/beacon/v1/batch` (RudderStack's JavaScript SDK with `useBeacon`,
/// the write key in the query). The write key comes from HTTP Basic, else (on the beacon path) the `writeKey` query
/// parameter, else the body's `writeKey`; the body's content type is not looked at (browsers send `text/plain`).
///
/// A request is answered `200 {"success": true}` only after its events are committed to the log. Retried requests
/// (same `messageId`s, same write key) store nothing twice and are answered `200` again; idempotency keys are scoped by
/// the write key's id, so another source's message with the same `messageId` is stored too. In a batch, invalid
/// messages are recorded in `rejections` and listed in the response while the valid ones are stored; with
/// `X-Strict-Mode: 1`, any invalid message fails the whole request with `400` and nothing is stored.
///
/// Browsers: see ``CORSPolicy``. Every path answers `OPTIONS` preflights, and a page of an allowed origin can read every
/// answer, errors included; a request from a page with a key that does not allow its origin is refused `403`.
/// `GET /v1/projects/{writeKey}/settings` serves ``SegmentSettings`` for a known key and `404` (plain text) for an
/// unknown one, as Segment's CDN does.
public struct SegmentController: Sendable {
    let intake: EventIntake
    let writeKeys: WriteKeys
    let cors: CORSPolicy
    let publicURL: String?
    let rateLimit: WriteKeyRateLimit?

    /// - Parameters:
    ///   - cors: the browser keys and their origins; by default none (every request from a page is refused).
    ///   - publicURL: `HUBSIGNAL_PUBLIC_URL`, the `apiHost` the settings document gives; `nil` leaves it out.
    ///   - rateLimit: the per-key limit on requests; `nil`: none.
    public init(
        store: EventStore, writeKeys: WriteKeys, cors: CORSPolicy = .none, publicURL: String? = nil,
        rateLimit: WriteKeyRateLimit? = nil, metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.rateLimit = rateLimit
        self.intake = EventIntake(store: store, metricsFactory: metricsFactory)
        self.writeKeys = writeKeys
        self.cors = cors
        self.publicURL = publicURL
    }

    /// One path of the tracking API.
    struct Route: Sendable {
        var path: String
        var endpoint: SegmentEndpoint
        /// Whether the write key may come in the `writeKey` query parameter (RudderStack's beacon path).
        var takesQueryWriteKey = false
    }

    /// Every path the SDKs post to.
    static let routes: [Route] =
        SegmentMessageType.allCases.flatMap { type in
            [Route(path: "/v1/\(type.rawValue)", endpoint: .single(type)), Route(path: "/v1/\(type.rawValue.prefix(1))", endpoint: .single(type))]
        } + ["batch", "import", "b"].map { Route(path: "/v1/\($0)", endpoint: .batch) }
        + [Route(path: "/beacon/v1/batch", endpoint: .batch, takesQueryWriteKey: true)]

    /// The settings path; analytics.js requests `{cdnURL}/v1/projects/{writeKey}/settings`, the mobile SDKs
    /// `https://{cdnHost}/projects/{writeKey}/settings` with a `cdnHost` ending in `/v1`.
    static let settingsPath = "/v1/projects/:writeKey/settings"

    /// Adds the routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        for route in Self.routes {
            router.post(RouterPath(route.path)) { request, context in
                await handle(request, context: context, route: route)
            }
            router.on(RouterPath(route.path), method: .options) { request, _ in
                preflight(request, method: .post)
            }
        }
        router.get(RouterPath(Self.settingsPath)) { request, context in
            settings(request, writeKey: context.parameters.get("writeKey") ?? "")
        }
    }

    /// The response body of an accepted request.
    struct Accepted: Encodable {
        var success = true
        var rejected: [RejectedMessage]?
    }

    /// Handles a request, and lets a page of an allowed origin read the answer (``CORSPolicy``).
    func handle(_ request: Request, context: some RequestContext, route: Route) async -> Response {
        let origin = request.headers[.origin]
        // Until the write key is known, an answer is readable by a page of an origin some key allows.
        var corsHeaders: HTTPFields = origin.map { self.cors.allowsSomeKey($0) ? CORSPolicy.responseHeaders(origin: $0) : [:] } ?? [:]
        var response = await handle(request, context: context, route: route) { writeKeyID in
            switch self.cors.decision(origin: origin, writeKeyID: writeKeyID) {
            case .notFromAPage:
                corsHeaders = [:]
            case .allowed(let origin):
                corsHeaders = CORSPolicy.responseHeaders(origin: origin)
            case .refused(let origin):
                corsHeaders = [:]
                return JSONResponse.error(Self.originRefused(origin))
            }
            // The rate limit counts the requests the key may send: after the origin check, before any work.
            if let rateLimit = self.rateLimit, let seconds = rateLimit.admit(writeKeyID) {
                let (error, headers) = WriteKeyRateLimit.tooManyRequests(retryAfter: seconds)
                return JSONResponse.error(error, headers: headers)
            }
            return nil
        }
        response.headers.append(contentsOf: corsHeaders)
        return response
    }

    /// Handles a request; `admit` is called with the write key's id once it is known, and refuses the request by
    /// returning an answer.
    func handle(
        _ request: Request, context: some RequestContext, route: Route, admit: (String) -> Response?
    ) async -> Response {
        let receivedAt = Date()
        let path = route.path
        let endpoint = route.endpoint
        var logger = context.logger
        logger[metadataKey: "http.route"] = "\(path)"

        // Authenticate from the header (or the beacon path's query) before reading anything else, when the client
        // sends one.
        var writeKeyID: String?
        if let authorization = request.headers[.authorization] {
            guard let key = Self.basicUser(authorization), let id = writeKeys.id(of: key) else {
                return JSONResponse.error(Self.unauthorized)
            }
            writeKeyID = id
        } else if route.takesQueryWriteKey, let key = request.uri.queryParameters["writeKey"] {
            guard let id = writeKeys.id(of: String(key)) else { return JSONResponse.error(Self.unauthorized) }
            writeKeyID = id
        }
        if let writeKeyID, let refusal = admit(writeKeyID) { return refusal }

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
            if let refusal = admit(id) { return refusal }
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

    /// Answers a preflight on a tracking path: allowed when some write key allows the page's origin (the preflight
    /// carries no key; the request that follows is checked against its own).
    func preflight(_ request: Request, method: HTTPRequest.Method) -> Response {
        guard let origin = request.headers[.origin] else {
            return Response(status: .noContent, headers: [.allow: "\(method.rawValue), OPTIONS"])
        }
        guard cors.allowsSomeKey(origin) else {
            return JSONResponse.error(
                IngestionError(
                    status: 403, code: "origin_not_allowed",
                    message: "no write key may be used from the web page at \(origin.prefix(200)): list this origin for a browser write key "
                        + "in HUBSIGNAL_CORS_ORIGINS"))
        }
        return Response(
            status: .noContent,
            headers: CORSPolicy.preflightHeaders(
                origin: origin, method: method, requestedHeaders: request.headers[.accessControlRequestHeaders]))
    }

    /// Answers `GET /v1/projects/{writeKey}/settings`: the settings of a known key (readable by a page of an origin the
    /// key allows; another page is refused `403`), else `404` with a plain-text body, as Segment's CDN answers.
    func settings(_ request: Request, writeKey rawKey: String) -> Response {
        let writeKey = rawKey.removingPercentEncoding ?? rawKey
        let origin = request.headers[.origin]
        guard let writeKeyID = writeKeys.id(of: writeKey) else {
            var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8", .vary: "Origin"]
            if let origin, cors.allowsSomeKey(origin) { headers.append(contentsOf: CORSPolicy.responseHeaders(origin: origin)) }
            return Response(
                status: .notFound, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: "Not found: no source has this write key")))
        }
        var headers: HTTPFields = [.cacheControl: "max-age=60"]
        switch cors.decision(origin: origin, writeKeyID: writeKeyID) {
        case .notFromAPage: headers[.vary] = "Origin"
        case .allowed(let origin): headers.append(contentsOf: CORSPolicy.responseHeaders(origin: origin))
        case .refused(let origin): return JSONResponse.error(Self.originRefused(origin))
        }
        return JSONResponse.make(status: .ok, body: SegmentSettings(writeKey: writeKey, publicURL: publicURL), headers: headers)
    }

    static func originRefused(_ origin: String) -> IngestionError {
        IngestionError(
            status: 403, code: "origin_not_allowed",
            message: "this write key may not be used from the web page at \(origin.prefix(200)): list the origin for the key in "
                + "HUBSIGNAL_CORS_ORIGINS (a key without origins is a server key, refused to every page)")
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
