import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1

/// OneSignal's REST API for one app, the parts HubSignal writes with: user tags (User Model API) and notifications.
///
/// Calls wait for the app's limiter of their endpoint group first and tell it about `429`s. Errors are
/// `OneSignalError`s; the client does not retry (the delivery workers decide, with backoff and a ledger).
public struct OneSignalClient: Sendable {
    /// Where and how to reach one OneSignal app.
    public struct Configuration: Sendable {
        /// `https://api.onesignal.com` by default; a sandbox's URL in tests and `hubsignal dev`.
        public var baseURL: String
        /// The OneSignal app id (a UUID).
        public var appID: String
        /// The app's REST API key, sent as `Authorization: Key …`.
        public var apiKey: String
        /// The longest a call may take, connection included (default 30 s).
        public var timeout: Duration
        /// User and subscription writes per second the app allows (OneSignal: 1,000).
        public var userWritesPerSecond: Int
        /// Create-notification calls per second the app allows (OneSignal: 150 on Free, 6,000 on paid plans).
        public var notificationsPerSecond: Int

        public init(
            baseURL: String = "https://api.onesignal.com", appID: String, apiKey: String, timeout: Duration = .seconds(30),
            userWritesPerSecond: Int = 1000, notificationsPerSecond: Int = 150
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.appID = appID
            self.apiKey = apiKey
            self.timeout = timeout
            self.userWritesPerSecond = userWritesPerSecond
            self.notificationsPerSecond = notificationsPerSecond
        }
    }

    public let configuration: Configuration
    /// Users and subscriptions: create, update, delete.
    public let userWrites: OneSignalRateLimiter
    /// `POST /notifications`.
    public let notifications: OneSignalRateLimiter
    /// View endpoints (templates): OneSignal allows one request per second per app.
    public let views: OneSignalRateLimiter
    private let httpClient: HTTPClient
    private let logger: Logger

    public init(configuration: Configuration, httpClient: HTTPClient = .shared, logger: Logger) {
        self.configuration = configuration
        self.userWrites = OneSignalRateLimiter(limit: configuration.userWritesPerSecond)
        self.notifications = OneSignalRateLimiter(limit: configuration.notificationsPerSecond)
        self.views = OneSignalRateLimiter(limit: 1)
        self.httpClient = httpClient
        self.logger = logger
    }

    // MARK: - Users

    /// How a user is addressed: an alias label and its value (`external_id`, `onesignal_id` or a custom label).
    public struct Alias: Sendable, Hashable {
        public var label: String
        public var id: String
        public init(label: String, id: String) {
            self.label = label
            self.id = id
        }
        /// The user whose external id is `id`.
        public static func externalID(_ id: String) -> Alias { Alias(label: "external_id", id: id) }
    }

    /// `PATCH /apps/{app_id}/users/by/{label}/{id}` with `{"properties":{"tags":{…}}}`: sets tags (`nil` removes
    /// the tag: sent as `""`). Returns `false` when OneSignal has no such user (`404`, or `400` naming a missing
    /// user: the contract's advice), so the caller can create it; other failures throw.
    public func updateTags(of alias: Alias, _ tags: [String: String?]) async throws -> Bool {
        do {
            _ = try await send(.PATCH, userPath(alias), body: PropertiesBody(tags: tags), limiter: userWrites)
            return true
        } catch let error as OneSignalError where error.code == .notFound {
            return false
        } catch let error as OneSignalError where error.code == .badRequest && error.message.lowercased().contains("not found") {
            return false
        }
    }

    /// `POST /apps/{app_id}/users`: creates the user with this alias and tags, or (the alias exists: OneSignal looks
    /// users up by the aliases given) updates it. `subscriptions` are created with it (an existing subscription with the
    /// same token is transferred to the user). Returns the user's `onesignal_id` when OneSignal said it.
    public func createUser(_ alias: Alias, tags: [String: String?], subscriptions: [NewSubscription] = []) async throws -> String? {
        struct Body: Encodable {
            var identity: [String: String]
            var properties: PropertiesBody.Properties
            var subscriptions: [NewSubscription]?
        }
        struct Created: Decodable {
            struct Identity: Decodable { var onesignal_id: String? }
            var identity: Identity?
        }
        let body = Body(
            identity: [alias.label: alias.id], properties: PropertiesBody(tags: tags).properties,
            subscriptions: subscriptions.isEmpty ? nil : subscriptions)
        let answer = try await send(.POST, "/apps/\(escaped(configuration.appID))/users", body: body, limiter: userWrites)
        return (try? JSONDecoder().decode(Created.self, from: Data(answer.body)))?.identity?.onesignal_id
    }

    /// What OneSignal answered to a create-or-update (``upsertUser(_:tags:subscriptions:)``).
    public struct UpsertedUser: Sendable, Equatable {
        /// The HTTP status: `201` (and `200`, which the spec also labels "CREATED") for a new user, `202` for an
        /// existing user the request modified.
        public var status: Int
        /// The user's `onesignal_id`, when the answer gives it.
        public var oneSignalID: String?
        /// The user's tags as the answer shows them (`properties.tags`); `nil` when the answer has none.
        public var tags: [String: String]?

        public init(status: Int, oneSignalID: String?, tags: [String: String]?) {
            self.status = status
            self.oneSignalID = oneSignalID
            self.tags = tags
        }

        /// Whether OneSignal made a new user (`200`/`201`) rather than modifying an existing one (`202`).
        public var isNew: Bool { status != 202 }

        /// Whether the answer shows every update of `tags` applied: each value held, each removal (`nil`) absent or
        /// empty. `false` when the answer shows no tags: then only an update makes sure of them.
        public func holds(_ tags: [String: String?]) -> Bool {
            guard let held = self.tags else { return tags.isEmpty }
            return tags.allSatisfy { key, value in
                if let value { return held[key] == value }
                return (held[key] ?? "").isEmpty
            }
        }
    }

    /// `POST /apps/{app_id}/users` with the alias and the tags (`nil` sent as `""`): one call that creates the user,
    /// or, when the alias exists, modifies that user (OneSignal looks users up by the aliases given: "Aliases provided
    /// in the payload will be used to look up an existing User", spec `create_user`).
    ///
    /// OneSignal documents what a create does to an existing user's subscriptions and aliases; for its properties it
    /// shows an example answer (`202` echoing the tags) but states nothing. A caller that must be sure of the tags
    /// checks ``UpsertedUser/holds(_:)`` and otherwise updates them (``updateTags(of:_:)``).
    ///
    /// `subscriptions` are created with the user, as ``createUser(_:tags:subscriptions:)`` does.
    public func upsertUser(_ alias: Alias, tags: [String: String?], subscriptions: [NewSubscription] = []) async throws -> UpsertedUser {
        struct Body: Encodable {
            var identity: [String: String]
            var properties: PropertiesBody.Properties
            var subscriptions: [NewSubscription]?
        }
        struct Answer: Decodable {
            struct Identity: Decodable { var onesignal_id: String? }
            struct Properties: Decodable { var tags: [String: String]? }
            var identity: Identity?
            var properties: Properties?
        }
        let body = Body(
            identity: [alias.label: alias.id], properties: PropertiesBody(tags: tags).properties,
            subscriptions: subscriptions.isEmpty ? nil : subscriptions)
        let answer = try await send(.POST, "/apps/\(escaped(configuration.appID))/users", body: body, limiter: userWrites)
        let decoded = try? JSONDecoder().decode(Answer.self, from: Data(answer.body))
        return UpsertedUser(status: answer.status, oneSignalID: decoded?.identity?.onesignal_id, tags: decoded?.properties?.tags)
    }

    /// `DELETE /apps/{app_id}/users/by/{label}/{id}`: deletes the user and its subscriptions. A user OneSignal does
    /// not have (`404`) counts as deleted.
    public func deleteUser(_ alias: Alias) async throws {
        do {
            _ = try await send(.DELETE, userPath(alias), body: Optional<Int>.none, limiter: userWrites)
        } catch let error as OneSignalError where error.code == .notFound {
            return
        }
    }

    // MARK: - Credentials

    /// Whether OneSignal accepts the app id and REST API key: `GET /apps/{app_id}/segments?limit=1` (a view call: one
    /// request, within the 1 request per second per app that views allow). Throws the `OneSignalError` otherwise
    /// (`unauthorized` for a wrong key, `notFound` for an unknown app).
    public func checkCredentials() async throws {
        _ = try await send(.GET, "/apps/\(escaped(configuration.appID))/segments?limit=1", body: Optional<Int>.none, limiter: notifications)
    }

    // MARK: - Segments

    /// `POST /apps/{app_id}/segments`: a segment of the users whose tag `tag` exists. Returns the segment's id; a
    /// segment with that name already existing (`409`) throws `conflict`.
    public func createSegment(name: String, tagExists tag: String) async throws -> String? {
        struct Filter: Encodable {
            var field = "tag"
            var key: String
            var relation = "exists"
        }
        struct Body: Encodable {
            var name: String
            var filters: [Filter]
        }
        struct Created: Decodable { var id: String? }
        let answer = try await send(
            .POST, "/apps/\(escaped(configuration.appID))/segments", body: Body(name: name, filters: [Filter(key: tag)]),
            limiter: userWrites)
        return (try? JSONDecoder().decode(Created.self, from: Data(answer.body)))?.id
    }

    // MARK: - Notifications

    /// `POST /notifications`. `id == nil` in the result means OneSignal sent nothing (a `200` with `"id": ""`, e.g.
    /// no subscribed recipient); `errors` says why.
    public func createNotification(_ notification: OneSignalNotificationRequest) async throws -> OneSignalNotificationResult {
        var body = notification
        body.appID = configuration.appID
        let answer = try await send(.POST, "/notifications", body: body, limiter: notifications)
        return try OneSignalNotificationResult(body: answer.body, replayed: answer.replayed)
    }

    // MARK: - Transport

    struct PropertiesBody: Encodable {
        struct Properties: Encodable {
            var tags: [String: String]
        }
        var properties: Properties
        init(tags: [String: String?]) {
            properties = Properties(tags: tags.mapValues { $0 ?? "" })
        }
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
        var replayed: Bool
    }

    func userPath(_ alias: Alias) -> String {
        "/apps/\(escaped(configuration.appID))/users/by/\(escaped(alias.label))/\(escaped(alias.id))"
    }

    /// Percent-encodes a path segment (a `/` in an external id becomes `%2F`, as OneSignal asks).
    func escaped(_ segment: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }

    /// Sends one request after the limiter allows it, and turns every non-2xx answer into a `OneSignalError`.
    func send<Body: Encodable>(_ method: HTTPMethod, _ path: String, body: Body?, limiter: OneSignalRateLimiter) async throws -> Answer {
        try await limiter.acquire()
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Key \(configuration.apiKey)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            request.body = .bytes(ByteBuffer(bytes: try encoder.encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: [UInt8]
        let started = ContinuousClock.now
        defer {
            // The same series as the HubSpot client's (destination="onesignal").
            Timer(label: "hubsignal_destination_request_duration_seconds", dimensions: [("destination", "onesignal")])
                .recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started))
        }
        do {
            response = try await httpClient.execute(request, timeout: .nanoseconds(Self.nanoseconds(configuration.timeout)))
            var buffer = try await response.body.collect(upTo: 4 * 1024 * 1024)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            Self.count(method: "\(method)", status: nil)
            throw OneSignalError(code: .timeout, message: "\(method) \(Self.route(path)): no answer within \(configuration.timeout)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            Self.count(method: "\(method)", status: nil)
            throw OneSignalError(code: .network, message: "\(method) \(Self.route(path)): \(error)")
        }
        let status = Int(response.status.code)
        Self.count(method: "\(method)", status: status)
        guard (200..<300).contains(status) else {
            let error = OneSignalError.from(status: status, body: bytes, retryAfterHeader: response.headers.first(name: "Retry-After"))
            if status == 429 { await limiter.rateLimited(retryAfter: error.retryAfter) }
            logger.debug(
                "OneSignal answered an error",
                metadata: ["method": "\(method)", "route": "\(Self.route(path))", "status": "\(status)", "code": "\(error.code)"])
            throw error
        }
        return Answer(status: status, body: bytes, replayed: response.headers.first(name: "Idempotent-Replayed") == "true")
    }

    /// The path without user ids (for errors and logs: external ids can be personal data).
    static func route(_ path: String) -> String {
        let path = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        guard let range = path.range(of: "/users/by/") else { return path }
        let rest = path[range.upperBound...]
        let label = rest.split(separator: "/").first.map(String.init) ?? ""
        return String(path[..<range.upperBound]) + label + "/…"
    }

    /// `hubsignal_destination_requests_total{destination="onesignal", method, status}` and, for 429s,
    /// `hubsignal_destination_rate_limited_total`.
    static func count(method: String, status: Int?) {
        Counter(
            label: "hubsignal_destination_requests_total",
            dimensions: [("destination", "onesignal"), ("method", method), ("status", status.map(String.init) ?? "error")]
        ).increment()
        if status == 429 {
            Counter(label: "hubsignal_destination_rate_limited_total", dimensions: [("destination", "onesignal")]).increment()
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// OneSignal's answer to a create-notification call.
public struct OneSignalNotificationResult: Sendable, Equatable {
    /// The notification id; `nil` when OneSignal sent nothing (`"id": ""`).
    public var id: String?
    /// OneSignal's error texts (`errors` as strings, or the keys of its object form).
    public var errors: [String]
    /// Recipients OneSignal could not reach (`errors.invalid_aliases`), by alias value.
    public var invalidAliases: [String]
    /// OneSignal replayed an earlier answer for the same idempotency key (`Idempotent-Replayed: true`).
    public var replayed: Bool

    public init(id: String?, errors: [String] = [], invalidAliases: [String] = [], replayed: Bool = false) {
        self.id = id
        self.errors = errors
        self.invalidAliases = invalidAliases
        self.replayed = replayed
    }

    init(body: [UInt8], replayed: Bool) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw OneSignalError(code: .decoding, status: 200, message: "OneSignal's answer to a notification is not a JSON object")
        }
        let id = object["id"] as? String
        self.id = id?.isEmpty == false ? id : nil
        self.replayed = replayed
        var invalid: [String] = []
        if let keyed = object["errors"] as? [String: Any] {
            for case let aliases as [String: Any] in [keyed["invalid_aliases"]].compactMap({ $0 }) {
                for case let values as [String] in aliases.values { invalid += values }
            }
            for case let values as [String] in [keyed["invalid_external_user_ids"], keyed["invalid_player_ids"]].compactMap({ $0 }) {
                invalid += values
            }
        }
        self.invalidAliases = Array(Set(invalid)).sorted()
        self.errors = OneSignalError.messages(in: body)
    }
}

extension OneSignalClient.Configuration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The base URL, app id and limits; never the API key.
    public var description: String {
        "OneSignalClient.Configuration(baseURL: \(baseURL), appID: \(appID), apiKey: <redacted>, timeout: \(timeout))"
    }

    public var debugDescription: String { description }
}
