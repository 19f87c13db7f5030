import Domain
import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

/// Templates: the list (`GET /templates`) and one template (`GET /templates/{id}`), as OneSignal's View templates and
/// View template references describe them (spec `view_templates`; documentation.onesignal.com/reference/view-templates).
extension OneSignalAPI {
    func registerTemplateRoutes(on router: Router<SandboxRequestContext>) {
        router.get("templates") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.listTemplates(request, context) }
        }
        router.get("templates/:template_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.viewTemplate(request, context) }
        }
    }

    /// `GET /templates?app_id=&limit=&offset=&channel=`: oldest first, `{"templates":[…],"total_count","offset","limit"}`.
    ///
    /// Refused as OneSignal refuses: a missing or unknown `app_id` (`400`), a key of no app or of another app (`403`),
    /// `limit` outside 1…50 (the documented maximum) or not a number, a negative or non-numeric `offset`, a `channel`
    /// other than `push`, `email`, `sms` (`400`); a view, so at most one per second per app (`429`).
    func listTemplates(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let query = request.uri.queryParameters
        let appID = try authorize(request, appID: query["app_id"].map(String.init))
        let offset = try Self.integer(query["offset"], name: "offset", default: 0, range: 0...Int.max)
        let limit = try Self.integer(query["limit"], name: "limit", default: 50, range: 1...50)
        let channel = query["channel"].map(String.init)
        if let channel, !OneSignalTemplate.channels.contains(channel) {
            throw .invalidRequest("channel must be one of push, email, sms", envelope: .basic)
        }
        let templates = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .view, limit: configuration.rateLimits.viewsPerSecond, envelope: .basic)
            return app.templates.filter { channel == nil || $0.channel == channel }
        }
        return OneSignalResponse.json(
            .ok,
            .object([
                "templates": .array(templates.dropFirst(offset).prefix(limit).map(\.listJSON)),
                "total_count": .int(Int64(templates.count)), "offset": .int(Int64(offset)), "limit": .int(Int64(limit)),
            ]))
    }

    /// `GET /templates/{id}?app_id=`: the template (`404` when the app has none with that id).
    func viewTemplate(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: request.uri.queryParameters["app_id"].map(String.init))
        let id = parameter(context, "template_id").lowercased()
        let template = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .view, limit: configuration.rateLimits.viewsPerSecond, envelope: .basic)
            guard let template = app.templates.first(where: { $0.id == id }) else {
                throw OneSignalError(status: .notFound, body: .object(["errors": .array([.string("Template not found")])]))
            }
            return template
        }
        return OneSignalResponse.json(.ok, template.listJSON)
    }

    /// A query parameter that must be an integer within `range`; `default` when absent.
    static func integer(_ raw: Substring?, name: String, default value: Int, range: ClosedRange<Int>) throws(OneSignalError) -> Int {
        guard let raw else { return value }
        guard let number = Int(raw), range.contains(number) else {
            let bounds = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            throw .invalidRequest("\(name) must be an integer \(bounds), not \"\(raw.prefix(32))\"", envelope: .basic)
        }
        return number
    }
}
