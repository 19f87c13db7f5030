import Foundation

/// A OneSignal call that failed: what kind of failure, whether retrying can help, and OneSignal's own error text.
///
/// OneSignal answers errors in two envelopes (`{"errors":["…"]}` and `{"errors":[{"code","title","meta"}]}`); both
/// are read. `message` holds OneSignal's titles but never `meta` (it can echo aliases: personal data).
public struct OneSignalError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// 400: the request is invalid (not retried).
        public static let badRequest = Code(rawValue: "bad_request")
        /// 400 because the user is at the plan's tag limit (not retried until the tags change).
        public static let tagLimit = Code(rawValue: "tag_limit")
        /// 401/403: the REST API key is wrong, lacks a permission, or the plan lacks the feature.
        public static let unauthorized = Code(rawValue: "unauthorized")
        /// 404: no such user, notification or app.
        public static let notFound = Code(rawValue: "not_found")
        /// 409: aliases that belong to different users, or a subscription limit.
        public static let conflict = Code(rawValue: "conflict")
        /// 429: rate limited (`retryAfter` when OneSignal said).
        public static let rateLimited = Code(rawValue: "rate_limited")
        /// 5xx.
        public static let server = Code(rawValue: "server_error")
        /// No answer within the client's timeout: the request may or may not have been applied.
        public static let timeout = Code(rawValue: "timeout")
        /// The connection failed or dropped: the request may or may not have been applied.
        public static let network = Code(rawValue: "network")
        /// A 2xx answer that could not be read.
        public static let decoding = Code(rawValue: "decoding")
    }

    public var code: Code
    /// The HTTP status, when OneSignal answered.
    public var status: Int?
    /// What went wrong, from OneSignal's error titles (no request values).
    public var message: String
    /// `Retry-After` of a 429 or 503.
    public var retryAfter: Duration?

    public init(code: Code, status: Int? = nil, message: String, retryAfter: Duration? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    /// Whether the same request may succeed later: 429, 5xx, timeouts and lost connections (OneSignal's advice: never
    /// retry 400, 401 or 403).
    public var isRetryable: Bool {
        [.rateLimited, .server, .timeout, .network].contains(code)
    }

    public var description: String {
        "OneSignal \(status.map { "\($0) " } ?? "")\(code): \(message)"
    }

    /// The error for a non-2xx answer.
    static func from(status: Int, body: [UInt8], retryAfterHeader: String?) -> OneSignalError {
        let messages = Self.messages(in: body)
        let text = messages.isEmpty ? "HTTP \(status)" : messages.joined(separator: "; ")
        let retryAfter = retryAfterHeader.flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
        let code: Code
        switch status {
        case 400 where text.contains("limited to a maximum of") && text.contains("tags"): code = .tagLimit
        case 400, 422: code = .badRequest
        case 401, 403: code = .unauthorized
        case 404: code = .notFound
        case 409: code = .conflict
        case 429: code = .rateLimited
        case 500...: code = .server
        default: code = .badRequest
        }
        return OneSignalError(code: code, status: status, message: text, retryAfter: retryAfter)
    }

    /// The error texts of either envelope: strings, or the `title` (else `code`) of structured errors.
    static func messages(in body: [UInt8]) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return [] }
        switch object["errors"] {
        case let list as [Any]:
            return list.compactMap { item in
                if let text = item as? String { return text }
                if let structured = item as? [String: Any] { return (structured["title"] ?? structured["code"]) as? String }
                return nil
            }
        case let text as String:
            return [text]
        case let keyed as [String: Any]:
            return keyed.keys.sorted()
        default:
            return []
        }
    }
}
