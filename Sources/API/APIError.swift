import Foundation
import HTTPTypes
import Hummingbird
import Ingestion
import PQ

/// The JSON error body every endpoint answers with: `{"success": false, "error": {"code": …, "message": …}}`.
struct ErrorBody: Encodable, Sendable {
    struct Detail: Encodable, Sendable {
        var code: String
        var message: String
    }
    var success = false
    var error: Detail
    var rejected: [RejectedMessage]?
}

/// Builds JSON responses.
public enum JSONResponse {
    /// A response with `body` encoded as JSON.
    public static func make(status: HTTPResponse.Status, body: some Encodable, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data(#"{"success":false}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: IngestionError, rejected: [RejectedMessage]? = nil, headers: HTTPFields = [:]) -> Response {
        make(
            status: HTTPResponse.Status(code: error.status),
            body: ErrorBody(error: .init(code: error.code, message: error.message), rejected: rejected), headers: headers)
    }

    /// Maps a storage failure. When the database cannot take writes for now — connection lost, pool exhausted,
    /// server starting or stopping, read-only (a failover, or an operator), out of disk space or other resources — the
    /// answer is `503` with `Retry-After` and a message naming the cause, so that clients retry and operators see
    /// why; nothing was stored. Anything else is `500`. Neither says more: details go to the log.
    static func storageFailure(_ error: any Error) -> Response {
        guard let error = error as? PQError else {
            return self.error(IngestionError(status: 500, code: "internal_error", message: "the events could not be stored; retry later"))
        }
        let cause: String?
        switch error.sqlState {
        case "25006": cause = "the database is read-only (a failover in progress, or writes disabled by an operator)"
        case "53100": cause = "the database is out of disk space"
        case let state? where state.hasPrefix("53"): cause = "the database is out of resources (SQLSTATE \(state))"
        case "57014" where error.code == .statementTimeout: cause = "the database did not answer in time"
        default: cause = error.isRetryable || error.code == .poolClosed ? "the database cannot be reached" : nil
        }
        guard let cause else {
            return self.error(IngestionError(status: 500, code: "internal_error", message: "the events could not be stored; retry later"))
        }
        return self.error(
            IngestionError(status: 503, code: "unavailable", message: "the event log is unavailable: \(cause); nothing was stored; retry later"),
            headers: [.retryAfter: "5"])
    }
}
