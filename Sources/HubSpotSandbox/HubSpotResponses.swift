import Foundation
import HTTPTypes
import Hummingbird

/// Turns replies and errors into Hummingbird responses, each with an `X-HubSpot-Correlation-Id` header.
enum HubSpotResponses {
    static let correlationHeader = "X-HubSpot-Correlation-Id"

    static func make(status: Int, body: JSON?, headers: [(String, String)] = []) -> Response {
        var fields = HTTPFields()
        if !headers.contains(where: { $0.0 == correlationHeader }) {
            fields.append(HTTPField(name: HTTPField.Name(correlationHeader)!, value: HubSpotError.correlationID()))
        }
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        guard let body else {
            return Response(status: .init(code: status), headers: fields)
        }
        fields[.contentType] = "application/json;charset=utf-8"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body.serialized)))
    }

    static func make(_ error: HubSpotError) -> Response {
        make(status: error.status, body: error.body, headers: [(correlationHeader, error.correlationID)] + error.headers)
    }
}
