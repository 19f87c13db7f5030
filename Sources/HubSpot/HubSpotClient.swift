import AsyncHTTPClient
import Foundation
import Logging
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
        /// The private-app (or OAuth) access token, sent as `Authorization: Bearer`.
        public var accessToken: String
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
    }

    public let configuration: Configuration
    /// The account's limiter (ten-secondly and daily limits).
    public let rateLimiter: HubSpotRateLimiter
    private let httpClient: HTTPClient
    private let logger: Logger

    public init(configuration: Configuration, rateLimiter: HubSpotRateLimiter, httpClient: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.rateLimiter = rateLimiter
        self.httpClient = httpClient
        self.logger = logger
    }

    // MARK: - Objects

    /// `POST /crm/v3/objects/{objectType}/batch/upsert`: creates or updates up to 100 objects by a unique property.
    ///
    /// A `207` is returned as a result with `errors` (the inputs HubSpot refused); a `400` (the whole batch refused,
    /// e.g. an unknown property) is thrown.
    public func upsert(_ inputs: [HubSpotUpsertInput], objectType: String) async throws -> HubSpotBatchResult {
        precondition(inputs.count <= configuration.batchSize, "a HubSpot batch holds at most \(configuration.batchSize) inputs")
        struct Body: Encodable { var inputs: [HubSpotUpsertInput] }
        let answer = try await send(.POST, "/crm/v3/objects/\(objectType)/batch/upsert", body: Body(inputs: inputs))
        return try decode(HubSpotBatchResult.self, from: answer)
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

    /// `POST /crm/v4/associations/{from}/{to}/batch/associate/default`: HubSpot's default (unlabelled, primary when
    /// it is the first) association for each pair. Exempt from the ten-secondly limit, but counted by the daily one.
    public func associateDefault(_ pairs: [HubSpotAssociationPair], from fromType: String, to toType: String) async throws {
        struct Reference: Encodable { var id: String }
        struct Input: Encodable { var from: Reference; var to: Reference }
        struct Body: Encodable { var inputs: [Input] }
        let body = Body(inputs: pairs.map { Input(from: Reference(id: $0.fromID), to: Reference(id: $0.toID)) })
        _ = try await send(.POST, "/crm/v4/associations/\(fromType)/\(toType)/batch/associate/default", body: body, limited: false)
    }

    // MARK: - Events

    /// `POST /events/v3/send`: one custom behavioral event occurrence (Enterprise accounts).
    public func send(_ occurrence: HubSpotEventOccurrence) async throws {
        _ = try await send(.POST, "/events/v3/send", body: occurrence, limited: false)
    }

    /// `POST /events/v3/send/batch`: several occurrences in one call (a `400` refuses the whole batch).
    public func send(_ occurrences: [HubSpotEventOccurrence]) async throws {
        struct Body: Encodable { var inputs: [HubSpotEventOccurrence] }
        _ = try await send(.POST, "/events/v3/send/batch", body: Body(inputs: occurrences), limited: false)
    }

    // MARK: - Transport

    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    /// Sends one request, waiting for the rate limiter first (unless the endpoint is exempt), and turns every non-2xx
    /// answer into a `HubSpotError` (after telling the limiter about `429`s and headers).
    func send<Body: Encodable>(_ method: HTTPMethod, _ path: String, body: Body?, limited: Bool = true) async throws -> Answer {
        if limited { try await rateLimiter.acquire() }
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.accessToken)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try encoder.encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: [UInt8]
        do {
            response = try await httpClient.execute(request, timeout: .nanoseconds(Int64(configuration.timeout.nanoseconds)))
            var buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw HubSpotError(code: .timeout, message: "\(method) \(path): no answer within \(configuration.timeout)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw HubSpotError(code: .network, message: "\(method) \(path): \(error)")
        }
        let headers = response.headers
        let interval = headers.first(name: "X-HubSpot-RateLimit-Interval-Milliseconds").flatMap { Int($0) }
        if limited {
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
                await rateLimiter.rateLimited(retryAfter: error.retryAfter, isDaily: error.code == .dailyLimitReached)
            }
            logger.debug(
                "HubSpot answered an error",
                metadata: ["method": "\(method)", "path": "\(path)", "status": "\(status)", "category": "\(error.category ?? "-")"])
            throw error
        }
        return Answer(status: status, body: bytes)
    }

    private func decode<T: Decodable>(_ type: T.Type, from answer: Answer) throws -> T {
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
