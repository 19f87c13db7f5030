/// A failed OAuth call (token exchange, refresh, introspection), or an install HubSignal refused.
///
/// `description` names the code, the HTTP status and the RFC 6749 error only; it never holds a token, a code or the
/// client secret. HubSpot's own explanation is in `message`.
public struct HubSpotOAuthError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidGrant, invalidClient, refused, unavailable, decoding, notInstalled
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `invalid_grant`: the code or refresh token is invalid, expired, used or revoked (a new install is needed).
        public static let invalidGrant = Code(.invalidGrant)
        /// `invalid_client`: the client id or secret is wrong.
        public static let invalidClient = Code(.invalidClient)
        /// Any other `4xx` (`invalid_request`, `unsupported_grant_type`, …).
        public static let refused = Code(.refused)
        /// `5xx`, a network failure or a timeout: try again later.
        public static let unavailable = Code(.unavailable)
        /// A `2xx` answer HubSignal could not read.
        public static let decoding = Code(.decoding)
        /// No installation holds tokens (the app is not installed yet, or its tokens were erased).
        public static let notInstalled = Code(.notInstalled)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The HTTP status, when HubSpot answered.
    public var status: Int?
    /// RFC 6749's `error` (`invalid_grant`, …), when HubSpot sent one.
    public var error: String?
    /// HubSpot's `error_description` or `message`, or HubSignal's explanation.
    public var message: String

    public init(code: Code, status: Int? = nil, error: String? = nil, message: String) {
        self.code = code
        self.status = status
        self.error = error
        self.message = message
    }

    public var description: String {
        "HubSpotOAuthError(\(code)\(status.map { ", status \($0)" } ?? "")\(error.map { ", \($0)" } ?? ""))"
    }
}
