import Foundation

/// One request a sandbox received, as sent, with the status it was answered with.
///
/// Headers are kept verbatim (the `Authorization` header included: this is a test tool), with lower-cased names;
/// repeated headers are joined with `", "`. The sandbox never writes them to its log.
public struct RecordedRequest: Sendable, Equatable {
    /// Position in the log, from 0, in order of arrival.
    public let sequence: Int
    /// The HTTP method, e.g. `POST`.
    public let method: String
    /// The path without the query, e.g. `/crm/v3/objects/contacts`.
    public let path: String
    /// The query string without `?`, or `""`.
    public let query: String
    /// Header values by lower-cased name.
    public let headers: [String: String]
    /// The request body as received.
    public let body: Data
    /// When the request arrived.
    public let receivedAt: Date
    /// The status the request was answered with; `nil` while it is in flight, or when the connection was dropped
    /// without a complete response.
    public internal(set) var status: Int?

    /// Creates a record; the server makes these.
    public init(
        sequence: Int, method: String, path: String, query: String, headers: [String: String], body: Data, receivedAt: Date,
        status: Int? = nil
    ) {
        self.sequence = sequence
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.receivedAt = receivedAt
        self.status = status
    }

    /// The value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// The body as UTF-8 text.
    public var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }

    /// The value of a query parameter (percent-decoded), or `nil` when absent.
    public func queryValue(_ name: String) -> String? {
        URLComponents(string: "?" + query)?.queryItems?.first { $0.name == name }?.value
    }
}
