import Domain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An answer other than success, with OneSignal's status and body (`shared/contracts/onesignal.md` §1, §2, §4, §7).
///
/// OneSignal has two error envelopes: the basic one, `{"errors": ["message", …]}`, for notifications, segments and
/// the edge (auth); and the structured one, `{"errors": [{"code": …, "title": …, "meta": {…}}]}`, for users, aliases
/// and subscriptions.
struct OneSignalError: Error, Sendable {
    /// The envelope an endpoint family answers errors with.
    enum Envelope: Sendable {
        case basic
        case structured
    }

    let status: HTTPResponse.Status
    let body: JSONValue
    var headers: HTTPFields = [:]

    /// The edge's answer to a missing, wrong or mismatched key (§1, "verified live"; note the two spaces).
    static let accessDenied = OneSignalError(
        status: .forbidden,
        body: basicBody([
            "Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys)."
        ]))

    /// No `app_id`, or one that names no app of this sandbox.
    static let appNotFound = OneSignalError(
        status: .badRequest, body: basicBody(["app_id not found. You may be missing a Content-Type: application/json header."]))

    /// The body is not what the endpoint takes, in the endpoint's envelope; `message` names the field.
    static func invalidRequest(_ message: String, envelope: Envelope) -> OneSignalError {
        switch envelope {
        case .basic: OneSignalError(status: .badRequest, body: basicBody([message]))
        case .structured: structured(.badRequest, code: "request-0", title: message)
        }
    }

    /// A user addressed by an alias that no user has (§2.3).
    static func userNotFound(label: String, id: String) -> OneSignalError {
        structured(.notFound, code: "user-0", title: "User not found", meta: ["alias_label": .string(label), "alias_id": .string(id)])
    }

    /// A subscription id that no subscription of the app has (§2.4).
    static let subscriptionNotFound = structured(.notFound, code: "subscription-0", title: "Subscription not found")

    /// An id that must be a UUID is not one (§2.4); `field` names it.
    static func invalidUUID(field: String, value: String) -> OneSignalError {
        structured(.badRequest, code: "request-1", title: "Invalid UUID", meta: [field: .string(value)])
    }

    /// The aliases of a create name different existing users (§2.1).
    static func conflictingAliases(_ aliases: [String: String]) -> OneSignalError {
        structured(
            .conflict, code: "Conflict", title: "Conflicting aliases",
            meta: ["conflicting_aliases": .object(aliases.mapValues { .string($0) })])
    }

    /// An alias that belongs to another user (upsert aliases, transfer).
    static func aliasClaimed(label: String, id: String) -> OneSignalError {
        structured(
            .conflict, code: "Conflict", title: "Conflicting aliases",
            meta: ["conflicting_aliases": .object([label: .string(id)])])
    }

    /// The user already has the maximum number of subscriptions (§2, §9.3).
    static func subscriptionLimit(_ limit: Int) -> OneSignalError {
        structured(
            .conflict, code: "Subscription Limit Exceeded", title: "A user can have at most \(limit) subscriptions")
    }

    /// The user already has the maximum number of custom aliases (§2, §9.3).
    static func aliasLimit(_ limit: Int) -> OneSignalError {
        structured(.conflict, code: "Alias Limit Exceeded", title: "A user can have at most \(limit) custom aliases")
    }

    /// Adding new tag keys would take the user over the app's per-user cap (§5: the only documented body).
    static func tagLimit(_ limit: Int) -> OneSignalError {
        OneSignalError(
            status: .badRequest,
            body: basicBody(["App is limited to a maximum of \(limit) tags on a given player"], success: false))
    }

    /// More than 100 tag updates in one request (§2.3, §5).
    static let tooManyTagUpdates = OneSignalError(
        status: .badRequest, body: basicBody(["Please limit your tag updates to 100 per request"], success: false))

    /// A tag value that is an array or an object (§5: "Not supported: Arrays, objects, nested values, or JSON blobs").
    static func tagValueNotString(key: String, value: JSONValue) -> OneSignalError {
        structured(
            .badRequest, code: "request-0",
            title: "Tag values must be strings: properties.tags.\(key) is \(SchemaValidator.typeName(value)) (arrays, objects and nested values are not supported)",
            meta: ["tag": .string(key)])
    }

    /// A tag key or value over the configured length limit (off by default: OneSignal publishes none, §5).
    static func tagTooLong(key: String, what: String, limit: Int) -> OneSignalError {
        structured(
            .badRequest, code: "request-0", title: "properties.tags.\(key): the tag \(what) is longer than \(limit) characters",
            meta: ["tag": .string(key)])
    }

    /// `GET /notifications/{id}` or cancel for an id the app never created (§7).
    static let notificationNotFound = OneSignalError(status: .notFound, body: basicBody(["Notification not found"]))

    /// A segment id the app does not have.
    static let segmentNotFound = OneSignalError(status: .notFound, body: basicBody(["Segment not found"], success: false))

    /// Delete of a segment the app does not have (spec: `404` with `GenericSuccessBoolResponse`).
    static let segmentNotFoundOnDelete = OneSignalError(status: .notFound, body: .object(["success": .bool(false)]))

    /// A segment body that is not valid (§6: `400 {"success":false,"errors":[…]}`).
    static func invalidSegment(_ message: String) -> OneSignalError {
        OneSignalError(status: .badRequest, body: basicBody([message], success: false))
    }

    /// A segment whose id or name the app already has (§6: `409` CreateSegmentConflictResponse).
    static func segmentConflict(_ message: String) -> OneSignalError {
        OneSignalError(status: .conflict, body: basicBody([message], success: false))
    }

    /// Rate limited (§7), with `Retry-After` in whole seconds (at least 1). Users and subscriptions answer in the
    /// structured envelope, everything else in the basic one with `"limit"`.
    static func rateLimited(retryAfter: Duration, envelope: Envelope, limit: String) -> OneSignalError {
        let seconds = max(1, Int((Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18).rounded(.up)))
        let body: JSONValue
        switch envelope {
        case .basic:
            body = .object(["errors": .array([.string("API rate limit exceeded")]), "limit": .string(limit)])
        case .structured:
            body = .object([
                "errors": .array([.object(["code": .string("Rate Limit Exceeded"), "title": .string("API rate limit exceeded")])])
            ])
        }
        return OneSignalError(status: .tooManyRequests, body: body, headers: [.retryAfter: String(seconds)])
    }

    /// The response this error answers with.
    var response: Response {
        OneSignalResponse.json(status, body, headers: headers)
    }

    private static func basicBody(_ messages: [String], success: Bool? = nil) -> JSONValue {
        var members: [String: JSONValue] = ["errors": .array(messages.map { .string($0) })]
        if let success { members["success"] = .bool(success) }
        return .object(members)
    }

    private static func structured(
        _ status: HTTPResponse.Status, code: String, title: String, meta: [String: JSONValue]? = nil
    ) -> OneSignalError {
        var error: [String: JSONValue] = ["code": .string(code), "title": .string(title)]
        if let meta { error["meta"] = .object(meta) }
        return OneSignalError(status: status, body: .object(["errors": .array([.object(error)])]))
    }
}
