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

    /// Maps a storage failure: retryable ones (database down, pool exhausted) are `503` with `Retry-After`, so that
    /// clients retry; the rest `500`. Neither says more than that: details go to the log.
    static func storageFailure(_ error: any Error) -> Response {
        if let error = error as? PQError, error.isRetryable || error.code == .poolClosed {
            return self.error(
                IngestionError(status: 503, code: "unavailable", message: "the event log is unavailable; retry later"),
                headers: [.retryAfter: "5"])
        }
        return self.error(IngestionError(status: 500, code: "internal_error", message: "the events could not be stored; retry later"))
    }
}
