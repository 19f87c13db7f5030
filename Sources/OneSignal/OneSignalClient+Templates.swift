import Foundation

/// OneSignal's templates API (`GET /templates`): the app's message templates, for the workflow editor's template list.
extension OneSignalClient {
    /// A message template as OneSignal lists it: a summary, without its content.
    public struct Template: Sendable, Hashable, Decodable {
        /// The template id (a UUID): what a notification's `template_id` names.
        public var id: String
        /// The name shown in OneSignal's dashboard.
        public var name: String
        /// `push`, `email` or `sms` when OneSignal says it (the list's docs example leaves it out).
        public var channel: String?
        /// When it was created and last changed, as OneSignal writes them (ISO 8601 text).
        public var createdAt: String?
        public var updatedAt: String?

        public init(id: String, name: String, channel: String? = nil, createdAt: String? = nil, updatedAt: String? = nil) {
            self.id = id
            self.name = name
            self.channel = channel
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        enum CodingKeys: String, CodingKey {
            case id, name, channel
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }

    /// One page of ``templates(offset:limit:channel:)``.
    public struct TemplatePage: Sendable, Hashable {
        public var templates: [Template]
        /// How many templates the app has in all (`total_count`); `nil` when the answer does not say.
        public var totalCount: Int?
    }

    /// The most templates one `GET /templates` returns (its `limit`'s default and maximum).
    public static let maximumTemplatesPerPage = 50

    /// `GET /templates?app_id=…&limit=…&offset=…[&channel=…]`: one page of the app's templates.
    ///
    /// A view call: it waits for ``views`` (one request per second per app, OneSignal's limit for views).
    /// - Parameters:
    ///   - offset: templates to skip (default 0).
    ///   - limit: templates per page, 1 to ``maximumTemplatesPerPage`` (default: the maximum).
    ///   - channel: `push`, `email` or `sms` to list only that channel's templates; `nil` for all.
    public func templates(offset: Int = 0, limit: Int = maximumTemplatesPerPage, channel: String? = nil) async throws -> TemplatePage {
        precondition(offset >= 0 && (1...Self.maximumTemplatesPerPage).contains(limit), "offset ≥ 0, limit 1…50")
        var query = [
            URLQueryItem(name: "app_id", value: configuration.appID), URLQueryItem(name: "limit", value: String(limit)),
            URLQueryItem(name: "offset", value: String(offset)),
        ]
        if let channel { query.append(URLQueryItem(name: "channel", value: channel)) }
        var components = URLComponents()
        components.queryItems = query
        let answer = try await send(.GET, "/templates?" + (components.percentEncodedQuery ?? ""), body: Optional<Int>.none, limiter: views)
        struct Page: Decodable {
            var templates: [Template]?
            var total_count: Int?
        }
        let page: Page
        do {
            page = try JSONDecoder().decode(Page.self, from: Data(answer.body))
        } catch {
            throw OneSignalError(code: .decoding, status: answer.status, message: "OneSignal's template list could not be read: \(error)")
        }
        return TemplatePage(templates: page.templates ?? [], totalCount: page.total_count)
    }

    /// Every template of the app, page after page (50 each, one page per second: OneSignal's view limit).
    ///
    /// Stops at `total_count`, or at the first page shorter than 50 when the answers do not give it. A page answered
    /// `429` is asked again after its `Retry-After` (``views`` waits it out), up to three times.
    public func allTemplates(channel: String? = nil) async throws -> [Template] {
        var templates: [Template] = []
        var rateLimited = 0
        while true {
            let page: TemplatePage
            do {
                page = try await self.templates(offset: templates.count, channel: channel)
            } catch let error as OneSignalError where error.code == .rateLimited && rateLimited < 3 {
                rateLimited += 1
                continue
            }
            templates += page.templates
            let done =
                page.templates.isEmpty || page.totalCount.map { templates.count >= $0 }
                ?? (page.templates.count < Self.maximumTemplatesPerPage)
            if done { return templates }
        }
    }
}
