import API
import App
import Foundation
import HubSpot
import HubSpotSandbox
import HummingbirdTesting
import Logging
import OneSignalSandbox
import Synchronization
import Testing
import TestSupport

/// Issue 22 item 1: the send-notification action's `template_id` lists the chosen OneSignal app's templates in HubSpot's
/// workflow editor, through the input's `optionsUrl`, as the HubSpot sandbox's editor requests them.
@Suite("Templates in the workflow editor: template_id options from the chosen OneSignal app")
struct TemplateOptionsTests {
    static let clientSecret = "hubspot-client-secret"
    static let publicURL = "https://hubsignal.example.com"
    static let portalID = 27_356_661
    static let developerKey = "dev-key-template-options"
    static let hubSpotAppID = "1109808"
    static let acme = OneSignalSandbox.Configuration.App(id: "8250eaf6-1a58-489e-b136-7c74a864b434", apiKey: "os_v2_app_acme", name: "Acme")
    static let beta = OneSignalSandbox.Configuration.App(id: "3c1f9d2e-7a4b-4e8f-9b6a-2d5c8e1f0a7b", apiKey: "os_v2_app_beta", name: "Beta")

    /// A HubSignal server with two OneSignal apps (`acme`, the default, and `beta`), the sandboxes, and the
    /// send-notification definition installed in the HubSpot sandbox.
    struct Editor: Sendable {
        let hubSpot: HubSpotSandbox
        let oneSignal: OneSignalSandbox
        let definitionID: String
        let address: URL
        let database: TestDatabase

        /// The editor's options request for `template_id`.
        func options(
            app: String? = nil, query: String? = nil, after: String? = nil, secret: String = TemplateOptionsTests.clientSecret,
            portal: Int? = nil
        ) async throws -> HubSpotSandbox.ActionOptionsPage {
            try await hubSpot.fetchActionOptions(
                definitionID: definitionID, inputFieldName: "template_id", inputFields: app.map { ["app": $0, "heading": "Hi"] } ?? [:],
                query: query, after: after, clientSecret: secret, via: address, portalID: portal)
        }

        /// The `GET /templates` calls OneSignal received.
        var templateCalls: Int { oneSignal.requests.all.filter { $0.method == "GET" && $0.path == "/templates" }.count }
        /// The distinct pages (queries) of those calls: a page refused `429` and asked again counts once.
        var templatePages: Int { Set(oneSignal.requests.all.filter { $0.method == "GET" && $0.path == "/templates" }.map(\.query)).count }
    }

    static func withEditor(
        apiKeys: (acme: String, beta: String) = (acme.apiKey, beta.apiKey), oneSignalBaseURL: String? = nil,
        _ body: @escaping @Sendable (Editor) async throws -> Void
    ) async throws {
        let oneSignal = OneSignalSandbox(configuration: .init(apps: [acme, beta]))
        _ = try await oneSignal.start()
        let hubSpot = HubSpotSandbox(configuration: .init(accessToken: "pat-na1-options", portalID: portalID, developerAPIKey: developerKey))
        try await hubSpot.start()
        do {
            try await TestPostgres.withDatabase { database in
                var configuration = AppConfiguration(databaseURL: database.connectionString)
                configuration.hubSpotClientSecret = clientSecret
                configuration.publicURL = publicURL
                configuration.hubSpotPortalID = String(portalID)
                configuration.oneSignalBaseURL = oneSignalBaseURL ?? oneSignal.baseURL!.absoluteString
                configuration.oneSignalAppsFromFile = [
                    OneSignalAppConfiguration(name: "acme", appID: acme.id, apiKey: apiKeys.acme),
                    OneSignalAppConfiguration(name: "beta", appID: beta.id, apiKey: apiKeys.beta),
                ]
                configuration.port = 0
                let client = HubSpotClient(
                    configuration: .init(baseURL: hubSpot.baseURL, accessToken: "pat-na1-options"), rateLimiter: HubSpotRateLimiter(limit: 100),
                    logger: TestPostgres.logger)
                let definitions = WorkflowActionDefinitions(publicURL: publicURL, appNames: ["acme", "beta"]).all.map(\.definition)
                let installed = try await client.installActionDefinitions(definitions, appID: hubSpotAppID, developerAPIKey: developerKey)
                let application = HubSignalService.makeApplication(configuration: configuration, client: database.client, logger: TestPostgres.logger)
                try await application.test(.live) { server in
                    let port = try #require(server.port)
                    let address = try #require(URL(string: "http://127.0.0.1:\(port)"))
                    try await body(
                        Editor(hubSpot: hubSpot, oneSignal: oneSignal, definitionID: installed[0].id, address: address, database: database))
                }
            }
        } catch {
            await oneSignal.stop()
            await hubSpot.stop()
            throw error
        }
        await oneSignal.stop()
        await hubSpot.stop()
    }

    @Test("the installed definition points template_id at the options URL, and app controls it")
    func definition() throws {
        let definition = WorkflowActionDefinitions(publicURL: Self.publicURL, appNames: ["acme", "beta"]).definition(for: .sendNotification)
        let template = try #require(definition.inputFields.first { $0.typeDefinition.name == "template_id" })
        #expect(template.typeDefinition.type == "enumeration")
        #expect(template.typeDefinition.fieldType == "select")
        #expect(template.typeDefinition.optionsUrl == Self.publicURL + HubSpotActionOptionsController.templatePath)
        #expect(WorkflowActionDefinitions.templateOptionsPath == HubSpotActionOptionsController.templatePath)
        #expect(definition.inputFieldDependencies?.contains {
            $0.dependencyType == "SINGLE_FIELD" && $0.controllingFieldName == "app" && $0.dependentFieldNames == ["template_id"]
        } == true)
        let single = WorkflowActionDefinitions(publicURL: Self.publicURL).definition(for: .sendNotification)
        #expect(single.inputFieldDependencies?.contains { $0.controllingFieldName == "app" } != true)
    }

    @Test("the editor gets the chosen app's templates by name; another app another list; no app the default's")
    func chosenApp() async throws {
        try await Self.withEditor { editor in
            let welcome = try editor.oneSignal.seedTemplate(appID: Self.acme.id, name: "Welcome")
            let cart = try editor.oneSignal.seedTemplate(appID: Self.acme.id, name: "cart reminder", channel: "email")
            let news = try editor.oneSignal.seedTemplate(appID: Self.beta.id, name: "Beta news", channel: "sms")

            let acme = try await editor.options(app: "acme")
            #expect(acme.options.map(\.label) == ["cart reminder", "Welcome"])
            #expect(acme.options.map(\.value) == [cart.id, welcome.id])
            #expect(acme.options[0].description?.hasPrefix("Email template, updated ") == true)
            #expect(acme.searchable)
            #expect(acme.after == nil)

            let beta = try await editor.options(app: "beta")
            #expect(beta.options.map(\.value) == [news.id])
            #expect(beta.options[0].description?.hasPrefix("SMS template") == true)

            #expect(try await editor.options().options.map(\.value) == [cart.id, welcome.id])

            await #expect(throws: HubSpotSandbox.ActionOptionsRefusal.self) { try await editor.options(app: "gamma") }
        }
    }

    @Test("a search filters by name (any case) or id; more than a page is paged with after")
    func searchAndPaging() async throws {
        try await Self.withEditor { editor in
            for index in 0..<60 { try editor.oneSignal.seedTemplate(appID: Self.acme.id, name: String(format: "Promo %02d", index)) }
            let welcome = try editor.oneSignal.seedTemplate(appID: Self.acme.id, name: "Welcome back")

            let first = try await editor.options(app: "acme")
            #expect(first.options.count == 50)
            #expect(first.options.first?.label == "Promo 00")
            let cursor = try #require(first.after)
            let second = try await editor.options(app: "acme", after: cursor)
            #expect(second.options.map(\.label) == (50..<60).map { String(format: "Promo %02d", $0) } + ["Welcome back"])
            #expect(second.after == nil)

            #expect(try await editor.options(app: "acme", query: "WELCOME").options.map(\.value) == [welcome.id])
            #expect(try await editor.options(app: "acme", query: "promo 5").options.count == 10)
            #expect(try await editor.options(app: "acme", query: String(welcome.id.prefix(8))).options.map(\.value) == [welcome.id])
            #expect(try await editor.options(app: "acme", query: "nothing like it").options.isEmpty)
            // 61 templates: two pages from OneSignal (50 per call), once, for all these requests.
            #expect(editor.templatePages == 2)
        }
    }

    @Test("a wrong signature is refused (401); another portal is refused (403) and recorded")
    func refusals() async throws {
        try await Self.withEditor { editor in
            try editor.oneSignal.seedTemplate(appID: Self.acme.id, name: "Welcome")
            let forged = await #expect(throws: HubSpotSandbox.ActionOptionsRefusal.self) {
                try await editor.options(app: "acme", secret: "not-the-secret")
            }
            #expect(forged?.status == 401)
            let foreign = await #expect(throws: HubSpotSandbox.ActionOptionsRefusal.self) {
                try await editor.options(app: "acme", portal: 99_999)
            }
            #expect(foreign?.status == 403)
            let answer = String(decoding: foreign?.body ?? Data(), as: UTF8.self)
            #expect(answer.contains("foreign_portal"))
            let rejections = try await editor.database.client.query(
                "SELECT count(*) FROM rejections WHERE endpoint = \(HubSpotActionOptionsController.templatePath)")[0].decode(Int.self)
            #expect(rejections == 1)
            #expect(editor.templateCalls == 0)
        }
    }

    @Test("OneSignal refusing the app's key is a 503 naming the app, never a crash; the other app still answers")
    func oneSignalFailure() async throws {
        try await Self.withEditor(apiKeys: (acme: "os_v2_app_wrong", beta: Self.beta.apiKey)) { editor in
            try editor.oneSignal.seedTemplate(appID: Self.beta.id, name: "Beta news")
            let refused = await #expect(throws: HubSpotSandbox.ActionOptionsRefusal.self) { try await editor.options(app: "acme") }
            #expect(refused?.status == 503)
            let text = String(decoding: refused?.body ?? Data(), as: UTF8.self)
            #expect(text.contains("onesignal_unavailable") && text.contains("acme"))
            #expect(try await editor.options(app: "beta").options.map(\.label) == ["Beta news"])
            // Within the failure interval the failure is answered without asking OneSignal again.
            let calls = editor.templateCalls
            _ = try? await editor.options(app: "acme")
            #expect(editor.templateCalls == calls)
        }
    }

    @Test("OneSignal down (nothing listening) is a 503 too")
    func oneSignalDown() async throws {
        try await Self.withEditor(oneSignalBaseURL: "http://127.0.0.1:9") { editor in
            let refused = await #expect(throws: HubSpotSandbox.ActionOptionsRefusal.self) { try await editor.options(app: "acme") }
            #expect(refused?.status == 503)
        }
    }
}

/// The cache between HubSpot's editor and OneSignal, on a manual clock.
@Suite("Template options cache: once per app per interval, a miss fetches, failures served from the last list")
struct TemplateOptionsCacheTests {
    final class Source: Sendable {
        let state = Mutex<(now: Date, lists: [String: [TemplateOption]], failing: Bool, calls: Int)>((Date(), [:], false, 0))
        func advance(_ seconds: TimeInterval) { state.withLock { $0.now += seconds } }
        func set(_ app: String, _ names: [String]) {
            state.withLock { $0.lists[app] = names.map { TemplateOption(id: $0.lowercased(), name: $0) } }
        }
        var calls: Int { state.withLock { $0.calls } }
        func failing(_ flag: Bool) { state.withLock { $0.failing = flag } }

        func cache(refresh: Duration = .seconds(300), failure: Duration = .seconds(30)) -> TemplateOptionsCache {
            TemplateOptionsCache(
                apps: ["acme", "beta"], configuration: .init(refreshInterval: refresh, failureInterval: failure),
                now: { self.state.withLock { $0.now } }
            ) { app in
                try await Task.sleep(for: .milliseconds(20))
                return try self.state.withLock { state in
                    state.calls += 1
                    if state.failing { throw CancellationError() }
                    return state.lists[app] ?? []
                }
            }
        }
    }

    @Test("fresh lists are served without a call; after the interval the next request fetches again")
    func refreshInterval() async throws {
        let source = Source()
        source.set("acme", ["Welcome"])
        let cache = source.cache()
        #expect(try await cache.templates(of: "acme").map(\.name) == ["Welcome"])
        source.set("acme", ["Welcome", "New"])
        source.advance(299)
        #expect(try await cache.templates(of: "acme").map(\.name) == ["Welcome"])
        #expect(source.calls == 1)
        source.advance(2)
        #expect(try await cache.templates(of: "acme").map(\.name) == ["Welcome", "New"])
        #expect(source.calls == 2)
        // Another app is its own miss.
        #expect(try await cache.templates(of: "beta").isEmpty)
        #expect(source.calls == 3)
    }

    @Test("a fetch slower than the timeout answers stillFetching (or the last list) and fills the cache when it ends")
    func slowFetch() async throws {
        let gate = Mutex(false)
        let cache = TemplateOptionsCache(apps: ["acme"], configuration: .init(fetchTimeout: .milliseconds(50))) { _ in
            while !gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            return [TemplateOption(id: "t1", name: "Slow")]
        }
        await #expect(throws: TemplateOptionsCacheError.self) { try await cache.templates(of: "acme") }
        gate.withLock { $0 = true }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await cache.templates(of: "acme").map(\.name) == ["Slow"])
        #expect(await cache.fetches == 1)
    }

    @Test("requests during a fetch share it: one call")
    func concurrentRequestsShareOneFetch() async throws {
        let source = Source()
        source.set("acme", ["Welcome"])
        let cache = source.cache()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await cache.templates(of: "acme").count } }
            for try await count in group { #expect(count == 1) }
        }
        #expect(source.calls == 1)
    }

    @Test("a failed refresh serves the last list; with none, the failure, not retried within the failure interval")
    func failures() async throws {
        let source = Source()
        source.set("acme", ["Welcome"])
        let cache = source.cache(refresh: .seconds(60), failure: .seconds(30))
        _ = try await cache.templates(of: "acme")
        source.failing(true)
        source.advance(61)
        #expect(try await cache.templates(of: "acme").map(\.name) == ["Welcome"])
        #expect(source.calls == 2)
        await #expect(throws: CancellationError.self) { try await cache.templates(of: "beta") }
        await #expect(throws: CancellationError.self) { try await cache.templates(of: "beta") }
        #expect(source.calls == 3)
        source.failing(false)
        source.advance(31)
        #expect(try await cache.templates(of: "beta").isEmpty)
        #expect(source.calls == 4)
    }
}

/// What HubSpot's editor refuses in an options answer (a lenient editor would show broken choices).
@Suite("HubSpot sandbox: options answers checked as the workflow editor reads them")
struct ActionOptionsAnswerTests {
    @Test(arguments: [
        (#"[]"#, "not a JSON object"),
        (#"{"after":"1"}"#, "no options array"),
        (#"{"options":[{"value":"a"}]}"#, "label"),
        (#"{"options":[{"label":"","value":"a"}]}"#, "label"),
        (#"{"options":[{"label":"A"}]}"#, "value"),
        (#"{"options":[{"label":"A","value":7}]}"#, "value"),
        (#"{"options":[{"label":"A","value":"a","description":3}]}"#, "description"),
        (#"{"options":[],"after":50}"#, "after"),
        (#"{"options":[],"searchable":"yes"}"#, "searchable"),
    ])
    func refused(body: String, reason: String) {
        let refusal = #expect(throws: HubSpotSandbox.ActionOptionsRefusal.self) {
            try HubSpotSandbox.ActionOptionsPage(validating: Data(body.utf8))
        }
        #expect(refusal?.reason.contains(reason) == true, "\(body)")
    }

    @Test func accepted() throws {
        let page = try HubSpotSandbox.ActionOptionsPage(
            validating: Data(#"{"options":[{"label":"A","value":"a","description":"d"},{"label":"B","value":"b"}],"after":"2","searchable":true}"#.utf8))
        #expect(page.options.map(\.value) == ["a", "b"])
        #expect(page.options[0].description == "d")
        #expect(page.after == "2")
        #expect(page.searchable)
    }
}
