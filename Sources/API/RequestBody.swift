import CompressNIO
import Domain
import HTTPTypes
import Hummingbird
import Ingestion
import NIOCore

/// Reads request bodies within a size limit, decompressing `Content-Encoding: gzip` / `deflate` bodies with the
/// same limit on the decompressed size (so a small gzip bomb cannot expand into memory).
enum RequestBody {
    static func collect(_ request: Request, limit: Int) async throws(IngestionError) -> ByteBuffer {
        var buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw IngestionError(
                status: 400, code: "request_too_large",
                message: "the request body is over the limit of \(limit) bytes (\(limit / 1024) KB) per request")
        }
        let encoding = request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces) ?? "identity"
        let algorithm: CompressionAlgorithm
        switch encoding {
        case "identity", "":
            return buffer
        case "gzip", "x-gzip":
            algorithm = .gzip()
        case "deflate":
            algorithm = .zlib()
        default:
            throw IngestionError(
                status: 415, code: "unsupported_encoding",
                message: "Content-Encoding \(encoding.prefix(64)) is not supported; send gzip, deflate or an uncompressed body")
        }
        do {
            return try buffer.decompress(with: algorithm, maxSize: limit)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw IngestionError(
                status: 400, code: "request_too_large",
                message: "the decompressed request body is over the limit of \(limit) bytes (\(limit / 1024) KB) per request")
        } catch {
            throw IngestionError(status: 400, code: "invalid_encoding", message: "the body is not valid \(encoding) data")
        }
    }

    /// Reads the body within `limit` (decompressed) and parses it as JSON.
    static func json(_ request: Request, limit: Int) async throws(IngestionError) -> JSONValue {
        let body = try await collect(request, limit: limit)
        do {
            return try JSONValue.parse(body.readableBytesView)
        } catch {
            throw IngestionError(status: 400, code: "invalid_json", message: "the body is not valid JSON: \(error)")
        }
    }
}
