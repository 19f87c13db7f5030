import Foundation

/// A failed HubSpot API call: what kind of failure, HubSpot's own words, and whether trying again can help.
///
/// `description` names the code, the HTTP status and HubSpot's category only; HubSpot's message (which can quote
/// property values, i.e. personal data) is in `message` and `debugDescription`.
public struct HubSpotError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure. New codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case rateLimited, dailyLimitReached, unauthorized, forbidden, validation, notFound, conflict, server, network,
                timeout, decoding
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `429` on the ten-secondly (or search) limit: wait `retryAfter` and try again.
        public static let rateLimited = Code(.rateLimited)
        /// `429` with policy `DAILY`: nothing more can be sent until the account's daily limit resets.
        public static let dailyLimitReached = Code(.dailyLimitReached)
        /// `401`: the token is wrong, expired or revoked.
        public static let unauthorized = Code(.unauthorized)
        /// `403`: the token lacks a scope, or the account's plan lacks the feature.
        public static let forbidden = Code(.forbidden)
        /// `400`: HubSpot refused the request's content (unknown property, invalid email, wrong type…).
        public static let validation = Code(.validation)
        /// `404`: the object or endpoint does not exist.
        public static let notFound = Code(.notFound)
        /// `409`: the object already exists.
        public static let conflict = Code(.conflict)
        /// `5xx`: HubSpot failed; try again later.
        public static let server = Code(.server)
        /// The connection failed or was dropped before a complete answer.
        public static let network = Code(.network)
        /// No answer within the client's timeout.
        public static let timeout = Code(.timeout)
        /// A `2xx` answer HubSignal could not read.
        public static let decoding = Code(.decoding)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The HTTP status, when HubSpot answered.
    public var status: Int?
    /// HubSpot's `category` (`VALIDATION_ERROR`, `RATE_LIMITS`, …) or `errorType` (`RATE_LIMIT`).
    public var category: String?
    /// HubSpot's `message`, verbatim. May quote property values: do not log it at levels above debug.
    public var message: String
    /// HubSpot's `correlationId`, for HubSpot support.
    public var correlationId: String?
    /// For `429`: how long to wait, from `Retry-After` or the policy's window.
    public var retryAfter: Duration?
    /// For `400` with `PROPERTY_DOESNT_EXIST`: the properties HubSpot does not know.
    public var missingProperties: [String]
    /// For `400`: each per-property problem HubSpot embedded in its message (`name` → `error` code, e.g. `INVALID_EMAIL`).
    public var propertyErrors: [PropertyError]

    /// One entry of the JSON array HubSpot embeds in a validation message.
    public struct PropertyError: Sendable, Hashable, Decodable {
        /// The property.
        public var name: String?
        /// `PROPERTY_DOESNT_EXIST`, `INVALID_EMAIL`, `INVALID_OPTION`, `INVALID_INTEGER`, `INVALID_DATE`, …
        public var error: String?
        /// HubSpot's explanation.
        public var message: String?
    }

    public init(
        code: Code, status: Int? = nil, category: String? = nil, message: String, correlationId: String? = nil,
        retryAfter: Duration? = nil, missingProperties: [String] = [], propertyErrors: [PropertyError] = []
    ) {
        self.code = code
        self.status = status
        self.category = category
        self.message = message
        self.correlationId = correlationId
        self.retryAfter = retryAfter
        self.missingProperties = missingProperties
        self.propertyErrors = propertyErrors
    }

    /// Whether the same request can succeed later without any change (rate limits, `5xx`, network trouble).
    public var isRetryable: Bool {
        code == .rateLimited || code == .server || code == .network || code == .timeout || code == .dailyLimitReached
    }

    public var description: String {
        var text = "HubSpot \(code)"
        if let status { text += " (HTTP \(status)" + (category.map { ", \($0)" } ?? "") + ")" }
        return text
    }

    public var debugDescription: String {
        description + ": " + message + (correlationId.map { " [correlationId \($0)]" } ?? "")
    }

    /// A short reason to record with a failed delivery: the code, the HTTP status and HubSpot's per-property error
    /// codes — never the values.
    public var reason: String {
        var text = description
        if !missingProperties.isEmpty {
            text += ": properties do not exist: " + missingProperties.sorted().joined(separator: ", ")
        } else if !propertyErrors.isEmpty {
            text += ": " + propertyErrors.map { "\($0.name ?? "?") \($0.error ?? "invalid")" }.sorted().joined(separator: ", ")
        } else if code == .validation || code == .notFound || code == .conflict || code == .forbidden {
            text += ": " + String(message.prefix(300))
        }
        return text
    }
}

extension HubSpotError {
    /// Reads HubSpot's error body (`{"status":"error","message","correlationId","category", …}`; every field optional)
    /// for a non-2xx answer.
    static func from(status: Int, body: [UInt8], retryAfterHeader: String?, intervalMilliseconds: Int?) -> HubSpotError {
        struct Body: Decodable {
            var message: String?
            var correlationId: String?
            var category: String?
            var errorType: String?
            var policyName: String?
        }
        let decoded = try? JSONDecoder().decode(Body.self, from: Data(body))
        let message = decoded?.message ?? String(decoding: body.prefix(500), as: UTF8.self)
        let category = decoded?.category ?? decoded?.errorType
        var error = HubSpotError(
            code: .server, status: status, category: category, message: message, correlationId: decoded?.correlationId)
        switch status {
        case 429:
            if decoded?.policyName == "DAILY" {
                error.code = .dailyLimitReached
            } else {
                error.code = .rateLimited
            }
            if let header = retryAfterHeader, let seconds = Double(header.trimmingCharacters(in: .whitespaces)) {
                error.retryAfter = .milliseconds(Int64(seconds * 1000))
            } else {
                error.retryAfter = .milliseconds(Int64(intervalMilliseconds ?? 10_000))
            }
        case 401: error.code = .unauthorized
        case 403: error.code = .forbidden
        case 404: error.code = .notFound
        case 409: error.code = .conflict
        case 400..<500: error.code = .validation
        default: error.code = .server
        }
        if error.code == .validation {
            error.propertyErrors = Self.embeddedPropertyErrors(in: message)
            error.missingProperties = error.propertyErrors.filter { $0.error == "PROPERTY_DOESNT_EXIST" }.compactMap(\.name)
        }
        return error
    }

    /// HubSpot puts per-property problems as a JSON array inside the message string, after
    /// `Property values were not valid: ` (hubspot.md §1.4).
    static func embeddedPropertyErrors(in message: String) -> [PropertyError] {
        guard let start = message.firstIndex(of: "["), let end = message.lastIndex(of: "]"), start < end else { return [] }
        let json = Data(message[start...end].utf8)
        return (try? JSONDecoder().decode([PropertyError].self, from: json)) ?? []
    }
}
