import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Applies the faults of a ``FaultPlan`` to matching requests. Place it after ``RequestLogMiddleware`` (so faulted
/// requests are recorded) and before anything that changes state.
public struct FaultMiddleware: RouterMiddleware {
    public typealias Context = SandboxRequestContext

    let plan: FaultPlan

    /// Applies the faults of `plan`.
    public init(plan: FaultPlan) {
        self.plan = plan
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let fault = plan.take(path: request.uri.path) else {
            return try await next(request, context)
        }
        switch fault {
        case .status(let code, let body, let headers):
            var fields = HTTPFields()
            for (name, value) in headers {
                if let name = HTTPField.Name(name) {
                    fields.append(HTTPField(name: name, value: value))
                }
            }
            let buffer = ByteBuffer(bytes: body ?? Data())
            if fields[.contentType] == nil, !buffer.readableBytesView.isEmpty {
                fields[.contentType] = "application/json;charset=utf-8"
            }
            return Response(status: .init(code: code), headers: fields, body: .init(byteBuffer: buffer))
        case .latency(let duration):
            await plan.hold(for: duration)
            return try await next(request, context)
        case .timeout(let duration):
            await plan.hold(for: duration)
            return Response(status: .gatewayTimeout)
        case .dropConnection(let afterHandling):
            if afterHandling {
                _ = try? await next(request, context)
            }
            // Closing the channel ends the connection before any byte of a response: the client sees the connection
            // close (EOF) while waiting for the response head.
            try? await context.channel.close(mode: .all)
            throw SandboxConnectionDropped()
        }
    }
}
