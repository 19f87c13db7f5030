import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

extension HubSpotSandbox {
    /// The router: request log → faults → OAuth endpoints → authentication → rate limits → the endpoint.
    static func makeRouter(
        configuration: Configuration, box: HubSpotStateBox, requests: RequestLog, faults: FaultPlan, limiter: HubSpotRateLimiter,
        oauth: HubSpotOAuthServer
    ) -> Router<SandboxRequestContext> {
        let router = Router(context: SandboxRequestContext.self)
        router.middlewares.add(RequestLogMiddleware(log: requests))
        router.middlewares.add(FaultMiddleware(plan: faults))
        router.middlewares.add(HubSpotOAuthMiddleware(configuration: configuration.oauth, sandboxPortalID: configuration.portalID, server: oauth))
        router.middlewares.add(
            HubSpotAuthMiddleware(
                accessToken: configuration.accessToken, developerAPIKey: configuration.developerAPIKey,
                scopes: configuration.scopes, oauth: oauth, appID: configuration.oauth?.appID))
        router.middlewares.add(HubSpotRateLimitMiddleware(limiter: limiter))
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("**", method: method) { request, context in
                try await dispatch(request, context: context, box: box)
            }
        }
        return router
    }

    /// Finds the route for a request and runs it.
    static func dispatch(_ request: Request, context: SandboxRequestContext, box: HubSpotStateBox) async throws -> Response {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let segments = request.uri.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let method = request.method.rawValue
        for route in HubSpotRoute.all {
            guard let parameters = route.match(method: method, segments: segments) else { continue }
            let call = HubSpotCall(
                parameters: parameters, query: query(request.uri.query), body: Data(buffer.readableBytesView), now: Date())
            switch box.run(route, call) {
            case .success(let reply): return HubSpotResponses.make(status: reply.status, body: reply.body)
            case .failure(let error): return HubSpotResponses.make(error)
            }
        }
        return HubSpotResponses.make(.notFound("No endpoint for \(method) \(request.uri.path)"))
    }

    /// Query parameters, percent-decoded; repeated names are joined with commas (`properties=a&properties=b`).
    static func query(_ text: String?) -> [String: String] {
        guard let text, let items = URLComponents(string: "?" + text)?.queryItems else { return [:] }
        var result: [String: String] = [:]
        for item in items {
            let value = item.value ?? ""
            result[item.name] = result[item.name].map { $0 + "," + value } ?? value
        }
        return result
    }
}
