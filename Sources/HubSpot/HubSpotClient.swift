import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1

/// HubSpot's REST API, the parts HubSignal writes with: batch upserts, properties, associations v4, behavioral events.
///
/// Every call goes through the account's `HubSpotRateLimiter` first and corrects it from the answer's headers.
/// Errors are `HubSpotError`s; the client does not retry (the delivery workers decide, with backoff and a ledger).
public struct HubSpotClient: Sendable {
    /// Where and how to reach HubSpot.
    public struct Configuration: Sendable {
        /// `https://api.hubapi.com` by default; a sandbox's URL in tests and `hubsignal dev`.
        public var baseURL: String
        /// The static auth (private-app) token, sent as `Authorization: Bearer`; unused when ``tokenSource`` is set.
        public var accessToken: String
        /// Where OAuth access tokens come from (refreshed before they expire); `nil` sends ``accessToken``. With a
        /// source, a `401` makes the client ask it for a refreshed token and send the request once more.
        public var tokenSource: (any HubSpotAccessTokenSource)?
        /// The longest a call may take, connection included (default 30 s).
        public var timeout: Duration
        /// Inputs per batch call (HubSpot's limit and the default: 100).
        public var batchSize: Int

        public init(baseURL: String = "https://api.hubapi.com", accessToken: String, timeout: Duration = .seconds(30), batchSize: Int = 100) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.accessToken = accessToken
            self.timeout = timeout
            self.batchSize = batchSize
        }

        /// A configuration whose access tokens come from `tokenSource` (an OAuth installation).
        public init(
            baseURL: String = "https://api.hubapi.com", tokenSource: any HubSpotAccessTokenSource, timeout: Duration = .seconds(30),
            batchSize: Int = 100
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.accessToken = ""
            self.tokenSource = tokenSource
            self.timeout = timeout
            self.batchSize = batchSize
        }
    }

    public let configuration: Configuration
    /// The account's limiter (ten-secondly and daily limits).
    public let rateLimiter: HubSpotRateLimiter
    /// The CRM search endpoints' own limit: 5 requests per second per account, and no rate-limit headers to learn from.
    public let searchRateLimiter: HubSpotRateLimiter
    private let httpClient: HTTPClient
    private let logger: Logger

    public init(configuration: Configuration, rateLimiter: HubSpotRateLimiter, httpClient: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.rateLimiter = rateLimiter
        self.searchRateLimiter = HubSpotRateLimiter(limit: 5, window: .seconds(1))
        self.httpClient = httpClient
        self.logger = logger
    }

    // MARK: - Objects

    /// `POST /crm/v3/objects/{objectType}/batch/upsert`: creates or updates up to 100 objects by a unique property.
    ///
    /// Any `2xx` may list refused inputs in `errors` (v3 answers them with `207`, the date-versioned specs with `200`);
    /// they are returned, not thrown. A `400` (the whole batch refused, e.g. an unknown property) is thrown. Results come
    /// in no promised order, and `objectWriteTraceId` need not be echoed: write the id property in `properties` to
    /// attribute them (it comes back in each result's `properties`).
    public func upsert(_ inputs: [HubSpotUpsertInput], objectType: String) async throws -> HubSpotBatchResult {
        precondition(inputs.count <= configuration.batchSize, "a HubSpot batch holds at most \(configuration.batchSize) inputs")
        Recorder(label: "hubsignal_delivery_batch_size", dimensions: [("destination", "hubspot"), ("object", objectType)])
            .record(inputs.count)
        struct Body: Encodable { var inputs: [HubSpotUpsertInput] }
        let answer = try await send(.POST, "/crm/v3/objects/\(objectType)/batch/upsert", body: Body(inputs: inputs))
        return try decode(HubSpotBatchResult.self, from: answer)
    }

    /// `POST /crm/v3/objects/contacts/gdpr-delete`: permanently deletes the contact with this email (HubSpot's GDPR
    /// deletion; it also blocks the email from being re-created by forms). A contact HubSpot does not have (`404`)
    /// counts as deleted.
    public func gdprDeleteContact(email: String) async throws {
        struct Body: Encodable {
            var objectId: String
            var idProperty = "email"
        }
        do {
            _ = try await send(.POST, "/crm/v3/objects/contacts/gdpr-delete", body: Body(objectId: email))
        } catch let error as HubSpotError where error.code == .notFound {
            return
        }
    }

    /// `POST /crm/v3/objects/contacts/gdpr-delete` by HubSpot's record id (no `idProperty`): permanently deletes that
    /// contact. A contact HubSpot does not have (`404`) counts as deleted.
    public func gdprDeleteContact(hubSpotID: String) async throws {
        struct Body: Encodable { var objectId: String }
        do {
            _ = try await send(.POST, "/crm/v3/objects/contacts/gdpr-delete", body: Body(objectId: hubSpotID))
        } catch let error as HubSpotError where error.code == .notFound {
            return
        }
    }

    // MARK: - Properties

    /// `GET /crm/v3/properties/{objectType}`: every property of the object type.
    public func properties(of objectType: String) async throws -> [HubSpotProperty] {
        struct Answer: Decodable { var results: [HubSpotProperty] }
        return try decode(Answer.self, from: try await send(.GET, "/crm/v3/properties/\(objectType)", body: Optional<Int>.none)).results
    }

    /// `POST /crm/v3/properties/{objectType}`: creates a property. An existing one (`409`) counts as created.
    public func create(_ property: HubSpotProperty, of objectType: String) async throws {
        do {
            _ = try await send(.POST, "/crm/v3/properties/\(objectType)", body: property)
        } catch let error as HubSpotError where error.code == .conflict {
            return
        }
    }

    // MARK: - Associations

    /// `POST /crm/v4/associations/{from}/{to}/batch/create`: labelled associations, each pair with its types (e.g.
    /// contact → company `279` unlabelled and `1` primary). Returns the pairs HubSpot associated (a `207` lists the
    /// others in its errors).
    public func associate(
        _ pairs: [(pair: HubSpotAssociationPair, types: [HubSpotAssociationType])], from fromType: String, to toType: String
    ) async throws -> Set<HubSpotAssociationPair> {
        struct Reference: Encodable { var id: String }
        struct Spec: Encodable {
            var associationCategory: String
            var associationTypeId: Int
        }
        struct Input: Encodable { var from: Reference; var to: Reference; var types: [Spec] }
        struct Body: Encodable { var inputs: [Input] }
        struct Result: Decodable { var fromObjectId: HubSpotObjectID; var toObjectId: HubSpotObjectID }
        struct Answer: Decodable { var results: [Result] }
        let body = Body(
            inputs: pairs.map { pair, types in
                Input(
                    from: Reference(id: pair.fromID), to: Reference(id: pair.toID),
                    types: types.map { Spec(associationCategory: $0.category, associationTypeId: $0.typeId) })
            })
        let answer = try await send(.POST, "/crm/v4/associations/\(fromType)/\(toType)/batch/create", body: body, limiter: .none)
        return Set(try decode(Answer.self, from: answer).results.map { HubSpotAssociationPair(fromID: $0.fromObjectId.text, toID: $0.toObjectId.text) })
    }

    // MARK: - Events

    /// `POST /events/v3/send/batch`: several occurrences in one call (a `400` refuses the whole batch).
    public func send(_ occurrences: [HubSpotEventOccurrence]) async throws {
        struct Body: Encodable { var inputs: [HubSpotEventOccurrence] }
        _ = try await send(.POST, "/events/v3/send/batch", body: Body(inputs: occurrences), limiter: .none)
    }

    // MARK: - Timeline

    /// `POST /crm/v3/objects/notes`: a Note on the contact's timeline (HubSpot-defined note → contact association,
    /// type 202). Returns the note's id.
    public func createNote(body: String, timestamp: String, contactID: String) async throws -> String {
        struct AssociationType: Encodable {
            var associationCategory = "HUBSPOT_DEFINED"
            var associationTypeId = 202
        }
        struct Target: Encodable { var id: String }
        struct Association: Encodable {
            var to: Target
            var types = [AssociationType()]
        }
        struct Body: Encodable {
            var properties: [String: String]
            var associations: [Association]
        }
        struct Created: Decodable { var id: HubSpotObjectID }
        let answer = try await send(
            .POST, "/crm/v3/objects/notes",
            body: Body(
                properties: ["hs_timestamp": timestamp, "hs_note_body": body],
                associations: [Association(to: Target(id: contactID))]))
        return try decode(Created.self, from: answer).id.text
    }

    /// `POST /crm/v3/objects/notes/search`: the ids of notes whose body contains `token` (a single word). Search has its
    /// own limit (5/s) and is eventually consistent: a note written a second ago may not be found yet.
    public func notes(containing token: String) async throws -> [String] {
        struct Filter: Encodable {
            var propertyName = "hs_note_body"
            var `operator` = "CONTAINS_TOKEN"
            var value: String
        }
        struct Group: Encodable { var filters: [Filter] }
        struct Body: Encodable {
            var filterGroups: [Group]
            var properties = ["hs_note_body"]
            var limit = 10
        }
        struct Found: Decodable { var results: [HubSpotObject] }
        let answer = try await send(
            .POST, "/crm/v3/objects/notes/search", body: Body(filterGroups: [Group(filters: [Filter(value: token)])]),
            limiter: .search)
        return try decode(Found.self, from: answer).results.map(\.id)
    }

    // MARK: - Transport

    /// Which limiter a call waits for.
    enum Limiter {
        /// The account's ten-secondly (and daily) limit.
        case standard
        /// The search endpoints' 5/s.
        case search
        /// Exempt from the ten-secondly limit (associations v4 batch, behavioral events).
        case none
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    /// How a call authenticates.
    enum Authentication {
        /// `Authorization: Bearer` with the configured access token (every account-level endpoint).
        case accessToken
        /// A developer API key as the `hapikey` query parameter (app-level endpoints such as action definitions). The key
        /// is never logged and never appears in errors: they name the path without the query.
        case developerAPIKey(String)
    }

    /// Sends one request, waiting for the rate limiter first (unless the endpoint is exempt), and turns every non-2xx
    /// answer into a `HubSpotError` (after telling the limiter about `429`s and headers).
    ///
    /// With a ``Configuration/tokenSource``, a `401` (the access token expired or was revoked early) gets one refresh
    /// and one retry; a second `401` is thrown.
    func send<Body: Encodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, limiter: Limiter = .standard, authentication: Authentication = .accessToken
    ) async throws -> Answer {
        guard case .accessToken = authentication, let source = configuration.tokenSource else {
            return try await send(method, path, body: body, limiter: limiter, authentication: authentication, token: configuration.accessToken)
        }
        let token = try await source.accessToken()
        do {
            return try await send(method, path, body: body, limiter: limiter, authentication: authentication, token: token)
        } catch let error as HubSpotError where error.code == .unauthorized {
            logger.debug("HubSpot refused the access token: refreshing it and trying once more", metadata: ["path": "\(path)"])
            let refreshed = try await source.refreshedAccessToken(rejecting: token)
            return try await send(method, path, body: body, limiter: limiter, authentication: authentication, token: refreshed)
        }
    }

    /// One attempt of ``send(_:_:body:limiter:authentication:)`` with `token` as the bearer token.
    private func send<Body: Encodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, limiter: Limiter, authentication: Authentication, token: String
    ) async throws -> Answer {
        switch limiter {
        case .standard: try await rateLimiter.acquire()
        case .search: try await searchRateLimiter.acquire()
        case .none: break
        }
        var request: HTTPClientRequest
        switch authentication {
        case .accessToken:
            request = HTTPClientRequest(url: configuration.baseURL + path)
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .developerAPIKey(let key):
            let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            let encoded = key.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            request = HTTPClientRequest(url: configuration.baseURL + path + (path.contains("?") ? "&" : "?") + "hapikey=" + encoded)
        }
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try encoder.encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: [UInt8]
        let started = ContinuousClock.now
        do {
            response = try await httpClient.execute(request, timeout: .nanoseconds(Int64(configuration.timeout.nanoseconds)))
            var buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            DestinationMetrics.hubSpot.record(method: "\(method)", status: nil, since: started)
            throw HubSpotError(code: .timeout, message: "\(method) \(path): no answer within \(configuration.timeout)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            DestinationMetrics.hubSpot.record(method: "\(method)", status: nil, since: started)
            throw HubSpotError(code: .network, message: "\(method) \(path): \(error)")
        }
        DestinationMetrics.hubSpot.record(method: "\(method)", status: Int(response.status.code), since: started)
        let headers = response.headers
        if let remaining = headers.first(name: "X-HubSpot-RateLimit-Remaining").flatMap({ Int($0) }) {
            DestinationMetrics.hubSpot.remaining.record(remaining)
        }
        let interval = headers.first(name: "X-HubSpot-RateLimit-Interval-Milliseconds").flatMap { Int($0) }
        if limiter == .standard {
            await rateLimiter.update(
                maximum: headers.first(name: "X-HubSpot-RateLimit-Max").flatMap { Int($0) },
                remaining: headers.first(name: "X-HubSpot-RateLimit-Remaining").flatMap { Int($0) },
                dailyRemaining: headers.first(name: "X-HubSpot-RateLimit-Daily-Remaining").flatMap { Int($0) })
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let error = HubSpotError.from(
                status: status, body: bytes, retryAfterHeader: headers.first(name: "Retry-After"), intervalMilliseconds: interval)
            if status == 429 {
                let limited = limiter == .search ? searchRateLimiter : rateLimiter
                await limited.rateLimited(retryAfter: error.retryAfter, isDaily: error.code == .dailyLimitReached)
            }
            logger.debug(
                "HubSpot answered an error",
                metadata: ["method": "\(method)", "path": "\(path)", "status": "\(status)", "category": "\(error.category ?? "-")"])
            throw error
        }
        return Answer(status: status, body: bytes)
    }

    func decode<T: Decodable>(_ type: T.Type, from answer: Answer) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(answer.body))
        } catch {
            throw HubSpotError(
                code: .decoding, status: answer.status, message: "could not read HubSpot's answer as \(T.self): \(error)")
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The Prometheus series of a destination's API calls: `hubsignal_destination_requests_total{destination, method,
/// status}` (status: the HTTP code, or `error` when no answer came), `hubsignal_destination_request_duration_seconds`,
/// `hubsignal_destination_rate_limited_total` (429s) and `hubsignal_destination_rate_limit_remaining` (HubSpot's
/// `X-HubSpot-RateLimit-Remaining`).
struct DestinationMetrics: Sendable {
    let destination: String
    let remaining: Gauge
    let duration: Timer
    let rateLimited: Counter

    init(destination: String) {
        self.destination = destination
        remaining = Gauge(label: "hubsignal_destination_rate_limit_remaining", dimensions: [("destination", destination)])
        duration = Timer(label: "hubsignal_destination_request_duration_seconds", dimensions: [("destination", destination)])
        rateLimited = Counter(label: "hubsignal_destination_rate_limited_total", dimensions: [("destination", destination)])
    }

    static let hubSpot = DestinationMetrics(destination: "hubspot")

    func record(method: String, status: Int?, since started: ContinuousClock.Instant) {
        duration.recordNanoseconds(Int64((ContinuousClock.now - started).nanoseconds))
        Counter(
            label: "hubsignal_destination_requests_total",
            dimensions: [("destination", destination), ("method", method), ("status", status.map(String.init) ?? "error")]
        ).increment()
        if status == 429 { rateLimited.increment() }
    }
}

extension HubSpotClient.Configuration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The base URL, timeout and batch size; never the token.
    public var description: String {
        "HubSpotClient.Configuration(baseURL: \(baseURL), accessToken: <redacted>, timeout: \(timeout), batchSize: \(batchSize))"
    }

    public var debugDescription: String { description }
}
