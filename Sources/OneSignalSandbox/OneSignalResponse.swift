import Domain
import HTTPTypes
import Hummingbird
import NIOCore

/// Builds the sandbox's HTTP responses.
enum OneSignalResponse {
    /// `body` as JSON with `Content-Type: application/json; charset=utf-8`.
    static func json(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let bytes = (try? body.serialized()) ?? Array("{}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A response without a body.
    static func empty(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentLength: "0"])
    }
}
