import Foundation
import Hummingbird
import NIOCore

/// Records every request (with its whole body) in a ``RequestLog`` and, once answered, its status.
///
/// The body is read here, up to the context's `maxUploadSize`, and handed on unchanged to the next responder.
/// Nothing is written to the server's log: requests carry credentials.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = SandboxRequestContext

    let log: RequestLog

    /// Records into `log`.
    public init(log: RequestLog) {
        self.log = log
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var request = request
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        request.body = RequestBody(buffer: buffer)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let sequence = log.begin(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
            body: Data(buffer.readableBytesView))
        do {
            let response = try await next(request, context)
            log.complete(sequence: sequence, status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            log.complete(sequence: sequence, status: error.status.code)
            throw error
        } catch let error as SandboxConnectionDropped {
            throw error
        } catch {
            // Hummingbird answers any other error with 500.
            log.complete(sequence: sequence, status: 500)
            throw error
        }
    }
}
