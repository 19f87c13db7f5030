import Domain
import Foundation
import Hummingbird
import Ingestion
import Logging

/// The options of the "Send OneSignal notification" action's `template_id` input, which HubSpot's workflow editor
/// fetches from the input's `optionsUrl` (`POST /hubspot/actions/options/template`): the chosen OneSignal app's
/// templates, searchable and paged.
///
/// The request is verified as ``HubSpotController`` verifies workflow actions (its signature check, v3 or v2 with
/// `HUBSPOT_CLIENT_SECRET` over `HUBSIGNAL_PUBLIC_URL` plus the path) and must come from the accepted portal (`403
/// foreign_portal` otherwise, recorded in `rejections`). The body names the input (`inputFieldName`, which must be
/// `template_id`), the other inputs' values (`inputFields`: `app` picks the app; without it, the default app), and
/// `fetchOptions` (`q` to search, `after` the cursor of the next page). The answer is HubSpot's options shape:
/// `{"options":[{"label","value","description"}],"after","searchable":true}`; `after` only when more follow.
///
/// Templates come from a ``TemplateOptionsCache``: OneSignal is asked at most once per app per refresh interval. When
/// OneSignal cannot be read and nothing is cached, the answer is `503 onesignal_unavailable` with the reason.
public struct HubSpotActionOptionsController: Sendable {
    /// The path HubSpot's editor POSTs to for the template list.
    public static let templatePath = "/hubspot/actions/options/template"
    /// The input whose options this serves.
    public static let templateInput = "template_id"
    /// The action input naming the OneSignal app.
    public static let appInput = "app"
    /// An options request is one small object.
    static let maximumBytes = 64 * 1024

    let hubSpot: HubSpotController
    let templates: TemplateOptionsCache
    /// Options per answer (default 50).
    let pageSize: Int

    /// - Parameters:
    ///   - hubSpot: the controller whose signature and portal checks the requests pass.
    ///   - templates: the configured apps' templates.
    ///   - pageSize: options per answer (HubSpot asks for the next page with `fetchOptions.after`).
    public init(hubSpot: HubSpotController, templates: TemplateOptionsCache, pageSize: Int = 50) {
        self.hubSpot = hubSpot
        self.templates = templates
        self.pageSize = max(1, pageSize)
    }

    /// Adds the route to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.post(RouterPath(stringLiteral: String(Self.templatePath.dropFirst()))) { request, context in
            await templateOptions(request, context: context)
        }
    }

    /// One option as HubSpot's editor lists it.
    struct Option: Encodable, Equatable {
        var label: String
        var value: String
        var description: String?
    }

    /// HubSpot's expected answer to an options request.
    struct Answer: Encodable {
        var options: [Option]
        /// The cursor HubSpot sends back as `fetchOptions.after` for the next page; absent on the last page.
        var after: String?
        /// The options are filtered by `fetchOptions.q`.
        var searchable = true
    }

    func templateOptions(_ request: Request, context: some RequestContext) async -> Response {
        do {
            let (body, _) = try await hubSpot.verifiedBody(request, limit: Self.maximumBytes, allowV2: true, context: context)
            let json = try HubSpotController.json(body)
            guard json.objectValue != nil else {
                throw IngestionError(status: 400, code: "invalid_options_request", message: "the body must be a JSON object")
            }
            let accepted = await hubSpot.acceptedPortalID()
            let sent = json["origin"]?["portalId"] ?? json["portalId"]
            if let refusal = HubSpotPortal.refusal(sent: sent, configured: accepted) {
                let rejection = RejectedMessage(index: 0, messageId: nil, reason: refusal, message: json)
                return await hubSpot.refuseForeignPortal([rejection], reason: refusal, endpoint: Self.templatePath, context: context)
            }
            let query = try Self.query(json, apps: templates.apps)
            let all: [TemplateOption]
            do {
                all = try await templates.templates(of: query.app)
            } catch {
                context.logger.info("OneSignal's templates could not be read", metadata: ["app": "\(query.app)", "error": "\(error)"])
                throw IngestionError(
                    status: 503, code: "onesignal_unavailable",
                    message: "OneSignal's templates of app '\(query.app)' could not be read; try again shortly (\(error))")
            }
            return JSONResponse.make(status: .ok, body: Self.page(all, query: query, size: pageSize))
        } catch let error as IngestionError {
            return JSONResponse.error(error)
        } catch {
            return JSONResponse.error(IngestionError(status: 400, code: "invalid_body", message: "the body could not be read"))
        }
    }

    /// What an options request asks for.
    struct Query: Equatable {
        var app: String
        var search: String
        var offset: Int
    }

    /// Reads the app (`inputFields.app`, a string or HubSpot's `{"type":"STATIC_VALUE","value":…}`; the default app when
    /// absent or empty), the search (`fetchOptions.q`) and the cursor (`fetchOptions.after`, a non-negative offset).
    static func query(_ json: JSONValue, apps: [String]) throws(IngestionError) -> Query {
        if let field = json["inputFieldName"]?.stringValue, field != templateInput {
            throw IngestionError(
                status: 400, code: "invalid_options_request", message: "this URL serves the options of \(templateInput), not \(field)")
        }
        let input = json["inputFields"]?[appInput]
        let chosen = (input?.stringValue ?? input?["value"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces)
        guard let app = chosen.isEmpty ? apps.first : apps.first(where: { $0 == chosen }) else {
            let message =
                apps.isEmpty
                ? "no OneSignal app is configured"
                : "\"app\" names no configured OneSignal app: '\(chosen)'; use one of \(apps.joined(separator: ", "))"
            throw IngestionError(status: 400, code: "invalid_options_request", message: message)
        }
        let search = (json["fetchOptions"]?["q"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces)
        var offset = 0
        if let after = json["fetchOptions"]?["after"], after != .null {
            guard let text = after.stringValue ?? after.identifierValue, let value = Int(text), value >= 0 else {
                throw IngestionError(
                    status: 400, code: "invalid_options_request", message: "fetchOptions.after is not a cursor this URL gave")
            }
            offset = value
        }
        return Query(app: app, search: search, offset: offset)
    }

    /// The page of `templates` the query asks for: matching the search (name or id, any case), by name.
    static func page(_ templates: [TemplateOption], query: Query, size: Int) -> Answer {
        let needle = query.search.lowercased()
        let matching =
            templates
            .filter { needle.isEmpty || $0.name.lowercased().contains(needle) || $0.id.lowercased().hasPrefix(needle) }
            .sorted { ($0.name.lowercased(), $0.id) < ($1.name.lowercased(), $1.id) }
        let slice = matching.dropFirst(query.offset).prefix(size)
        let next = query.offset + slice.count
        return Answer(
            options: slice.map { Option(label: $0.name, value: $0.id, description: description(of: $0)) },
            after: next < matching.count ? String(next) : nil)
    }

    /// "Push template, updated 2026-12-01" (the parts known).
    static func description(of template: TemplateOption) -> String? {
        var parts: [String] = []
        if let channel = template.channel, !channel.isEmpty {
            parts.append(channel == "sms" ? "SMS template" : channel.prefix(1).uppercased() + channel.dropFirst() + " template")
        }
        if let updated = template.updatedAt, updated.count >= 10 { parts.append("updated \(updated.prefix(10))") }
        guard !parts.isEmpty else { return nil }
        let text = parts.joined(separator: ", ")
        return text.prefix(1).uppercased() + text.dropFirst()
    }
}
