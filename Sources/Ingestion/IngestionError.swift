/// A request the ingestion API refuses as a whole: the HTTP status, a stable code and a message that says what is
/// wrong and what to do. Never contains the request's data.
public struct IngestionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status to answer with.
    public var status: Int
    /// A stable, machine-readable code, e.g. `invalid_json`, `message_too_large`.
    public var code: String
    /// What is wrong, for the client's developer.
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    static func badRequest(_ code: String, _ message: String) -> IngestionError {
        IngestionError(status: 400, code: code, message: message)
    }
}
