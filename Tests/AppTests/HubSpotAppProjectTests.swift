import Domain
import Foundation
import HubSpot
import Ingestion
import Mapping
import Testing

/// HubSignal's HubSpot app project (`deploy/hubspot/`, `hubsignal hubspot app`): generated from the code's definitions,
/// valid by the rules HubSpot's developer platform documents, and delivering webhooks HubSignal reads.
@Suite("HubSpot app project")
struct HubSpotAppProjectTests {
    static let publicURL = "https://hubsignal.example.com"

    /// The project in `deploy/hubspot/`: the example host, static auth, one OneSignal app, the default mapping.
    static var deployed: HubSpotAppProject {
        HubSpotAppProject(publicURL: publicURL, properties: Array(Mapping.defaults.hubSpotToOneSignal.properties.keys))
    }

    static let deployFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/hubspot")

    /// The files as JSON objects by path.
    static func json(_ project: HubSpotAppProject) throws -> [String: [String: Any]] {
        var files: [String: [String: Any]] = [:]
        for file in try project.files() {
            files[file.path] = try #require(try JSONSerialization.jsonObject(with: file.contents) as? [String: Any])
        }
        return files
    }

    // MARK: - deploy/hubspot cannot drift

    /// `deploy/hubspot/` holds exactly the generator's files for the example host (plus its README.md).
    /// `HUBSIGNAL_UPDATE_DEPLOY=1 swift test --filter HubSpotAppProjectTests` writes them again.
    @Test func deployFolderEqualsTheGenerator() throws {
        let project = Self.deployed
        if ProcessInfo.processInfo.environment["HUBSIGNAL_UPDATE_DEPLOY"] == "1" {
            try project.write(to: Self.deployFolder)
        }
        let files = try project.files()
        for file in files {
            let actual = try Data(contentsOf: Self.deployFolder.appendingPathComponent(file.path))
            #expect(
                String(decoding: actual, as: UTF8.self) == String(decoding: file.contents, as: UTF8.self),
                "deploy/hubspot/\(file.path) differs from HubSpotAppProject; see the test's comment to rewrite it")
        }
        let present = try Self.filesUnder(Self.deployFolder).subtracting(["README.md"])
        #expect(present == Set(files.map(\.path)), "deploy/hubspot holds files the generator does not write (or lacks some)")
    }

    static func filesUnder(_ folder: URL) throws -> Set<String> {
        var paths: Set<String> = []
        let base = folder.standardizedFileURL.path
        let enumerator = try #require(FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]))
        for case let url as URL in enumerator where (try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            paths.insert(String(url.standardizedFileURL.path.dropFirst(base.count + 1)))
        }
        return paths
    }

    // MARK: - Valid by HubSpot's rules

    @Test(arguments: [HubSpotAppProject.Authentication.staticToken, .oauth], [[String](), ["main", "beta"]])
    func generatedProjectsBreakNoRule(authentication: HubSpotAppProject.Authentication, apps: [String]) throws {
        let project = HubSpotAppProject(
            publicURL: Self.publicURL + "/", authentication: authentication, oneSignalApps: apps, properties: ["lifecyclestage"])
        let problems = HubSpotProjectRules.problems(in: try Self.json(project))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Each rule refuses what HubSpot refuses: a project with one mistake has exactly that problem reported.
    @Test func theRulesCatchEachMistake() throws {
        let app = "src/app/app-hsmeta.json"
        let send = "src/app/workflow-actions/send-notification-hsmeta.json"
        let webhooks = "src/app/webhooks/webhooks-hsmeta.json"
        typealias Mistake = (String, (inout [String: [String: Any]]) -> Void, String)
        let mistakes: [Mistake] = [
            ("uid with a space", { $0[app]?["uid"] = "hub signal" }, "uid"),
            ("uid of 65 characters", { $0[app]?["uid"] = String(repeating: "a", count: 65) }, "uid"),
            ("two components with one uid", { files in
                let uid = files[app]?["uid"]
                files[webhooks]?["uid"] = uid
            }, "unique"),
            ("type not matching its folder", { $0[webhooks]?["type"] = "webhook" }, "type"),
            ("static auth with redirect URLs", { Self.edit(&$0, app, ["config", "auth"]) { $0["redirectUrls"] = ["https://x/cb"] } }, "redirectUrls"),
            ("OAuth without redirect URLs", { Self.edit(&$0, app, ["config", "auth"]) { $0["type"] = "oauth" } }, "redirectUrls"),
            ("static auth on the marketplace", { Self.edit(&$0, app, ["config"]) { $0["distribution"] = "marketplace" } }, "marketplace"),
            ("unknown distribution", { Self.edit(&$0, app, ["config"]) { $0["distribution"] = "public" } }, "distribution"),
            ("name with a trailing space", { Self.edit(&$0, app, ["config"]) { $0["name"] = "HubSignal " } }, "name"),
            ("no description", { Self.edit(&$0, app, ["config"]) { $0["description"] = nil } }, "description"),
            ("a scope both required and optional", {
                Self.edit(&$0, app, ["config", "auth"]) { $0["optionalScopes"] = ($0["requiredScopes"] as? [String] ?? []).prefix(1).map { $0 } }
            }, "both"),
            ("an input without options", { Self.editInput(&$0, send, 0) { $0["options"] = nil } }, "options"),
            ("an unknown input type", { Self.editInput(&$0, send, 0) { $0["type"] = "text" } }, "type"),
            ("an unknown fieldType", { Self.editInput(&$0, send, 0) { $0["fieldType"] = "dropdown" } }, "fieldType"),
            ("OUTPUT_FROM_PREVIOUS_ACTION", {
                Self.edit(&$0, send, ["config"]) { config in
                    var inputs = config["inputFields"] as? [[String: Any]] ?? []
                    inputs[0]["supportedValueTypes"] = ["OUTPUT_FROM_PREVIOUS_ACTION"]
                    config["inputFields"] = inputs
                }
            }, "supportedValueTypes"),
            // Input 2 (`heading`) is a text input: neither options nor an optionsUrl.
            ("an enumeration without choices", { Self.editInput(&$0, send, 2) { $0["type"] = "enumeration"; $0["fieldType"] = "select" } }, "enumeration"),
            ("an optionsUrl that is not https", { Self.editInput(&$0, send, 1) { $0["optionsUrl"] = "http://hubsignal.example.com/o" } }, "optionsUrl"),
            ("no supportedClients", { Self.edit(&$0, send, ["config"]) { $0["supportedClients"] = nil } }, "supportedClients"),
            ("published under its API name", {
                Self.edit(&$0, send, ["config"]) { $0["published"] = $0["isPublished"]; $0["isPublished"] = nil }
            }, "published"),
            ("no English action name", { Self.edit(&$0, send, ["config", "labels", "en"]) { $0["actionName"] = nil } }, "actionName"),
            ("an http action URL", { Self.edit(&$0, send, ["config"]) { $0["actionUrl"] = "http://hubsignal.example.com/a" } }, "https"),
            ("a property change without a property", {
                Self.edit(&$0, webhooks, ["config", "subscriptions"]) { groups in
                    var legacy = groups["legacyCrmObjects"] as? [[String: Any]] ?? []
                    legacy[0]["propertyName"] = nil
                    groups["legacyCrmObjects"] = legacy
                }
            }, "propertyName"),
            ("an unknown subscription group", {
                Self.edit(&$0, webhooks, ["config", "subscriptions"]) { $0["contacts"] = [] as [Any] }
            }, "group"),
            ("no target URL", { Self.edit(&$0, webhooks, ["config", "settings"]) { $0["targetUrl"] = nil } }, "targetUrl"),
            ("an unknown platform version", { $0["hsproject.json"]?["platformVersion"] = "2024.1" }, "platformVersion"),
        ]
        let valid = try Self.json(Self.deployed)
        #expect(HubSpotProjectRules.problems(in: valid).isEmpty)
        for (name, change, expected) in mistakes {
            var files = valid
            change(&files)
            let problems = HubSpotProjectRules.problems(in: files)
            #expect(problems.count == 1 && problems[0].contains(expected), "\(name): \(problems)")
        }
    }

    /// Changes the object at `path` inside file `file`.
    static func edit(_ files: inout [String: [String: Any]], _ file: String, _ path: [String], _ change: (inout [String: Any]) -> Void) {
        func apply(_ object: inout [String: Any], _ path: ArraySlice<String>) {
            guard let key = path.first else { return change(&object) }
            var inner = object[key] as? [String: Any] ?? [:]
            apply(&inner, path.dropFirst())
            object[key] = inner
        }
        var object = files[file] ?? [:]
        apply(&object, path[...])
        files[file] = object
    }

    /// Changes the `typeDefinition` of input `index` of an action file.
    static func editInput(_ files: inout [String: [String: Any]], _ file: String, _ index: Int, _ change: @escaping (inout [String: Any]) -> Void) {
        edit(&files, file, ["config"]) { config in
            var inputs = config["inputFields"] as? [[String: Any]] ?? []
            var definition = inputs[index]["typeDefinition"] as? [String: Any] ?? [:]
            change(&definition)
            inputs[index]["typeDefinition"] = definition
            config["inputFields"] = inputs
        }
    }

    // MARK: - The same definitions as the code

    @Test func theActionsAreWorkflowActionDefinitions() throws {
        let project = HubSpotAppProject(publicURL: Self.publicURL, oneSignalApps: ["main", "beta"])
        let files = try Self.json(project)
        let definitions = WorkflowActionDefinitions(publicURL: Self.publicURL, appNames: ["main", "beta"])
        for (action, definition) in definitions.all {
            let file = try #require(files["src/app/workflow-actions/\(action.rawValue)-hsmeta.json"])
            #expect(file["uid"] as? String == HubSpotAppProject.uid(of: action))
            let config = try #require(file["config"] as? [String: Any])
            #expect(config["actionUrl"] as? String == Self.publicURL + action.path)
            #expect(config["isPublished"] as? Bool == definition.published)
            #expect(config["objectTypes"] as? [String] == definition.objectTypes)
            // Inputs, outputs and labels as the definition encodes them.
            let encoded = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(definition)) as? [String: Any])
            for key in ["inputFields", "outputFields", "labels"] {
                let ours = try JSONSerialization.data(withJSONObject: try #require(config[key]), options: .sortedKeys)
                let theirs = try JSONSerialization.data(withJSONObject: try #require(encoded[key]), options: .sortedKeys)
                #expect(ours == theirs, "\(action.rawValue) \(key)")
            }
            let app = (config["inputFields"] as? [[String: Any]])?.last?["typeDefinition"] as? [String: Any]
            #expect(app?["name"] as? String == "app")
            #expect((app?["options"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == ["main", "beta"])
        }
    }

    @Test func scopesAreEveryEndpointsScopeSplitByPlan() {
        let endpointScopes = Set(HubSpotEndpoint.all.compactMap(\.scope))
        for authentication in HubSpotAppProject.Authentication.allCases {
            let scopes = HubSpotAppScopes.forAuthentication(authentication)
            let required = Set(scopes.required)
            let optional = Set(scopes.optional)
            #expect(required.isDisjoint(with: optional))
            #expect(endpointScopes.isSubset(of: required.union(optional)), "every endpoint's scope is asked for")
            #expect(required.contains(.contactsRead), "contact webhooks need crm.objects.contacts.read")
            #expect(required.contains(.contactsWrite) && required.contains(.companiesWrite) && required.contains(.contactSchemasWrite))
            #expect(optional == Set(HubSpotAppScopes.planDependent.keys), "exactly the plan-dependent scopes are optional")
            #expect(required.contains(.oauth) == (authentication == .oauth))
            // Nothing asked for that no endpoint or webhook needs.
            #expect(required.union(optional).subtracting(endpointScopes).subtracting(HubSpotAppScopes.forWebhooks).subtracting([.oauth]).isEmpty)
            #expect(scopes.required == scopes.required.sorted() && scopes.optional == scopes.optional.sorted())
        }
        // Every plan-dependent scope belongs to an endpoint HubSignal calls (none is stale).
        #expect(Set(HubSpotAppScopes.planDependent.keys).isSubset(of: endpointScopes))
    }

    /// The scope table of `docs/hubspot-app.md` lists exactly the app's scopes, each with its kind.
    @Test func theScopeTableIsTheApps() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/hubspot-app.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "### Scopes").dropFirst().first?.components(separatedBy: "\n### ").first)
        var kinds: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let scope = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            #expect(kinds.updateValue(cells[1], forKey: scope) == nil, "\(scope) is listed twice")
        }
        let oauth = HubSpotAppScopes.forAuthentication(.oauth)
        let staticToken = HubSpotAppScopes.forAuthentication(.staticToken)
        var expected: [String: String] = [:]
        for scope in staticToken.required { expected[scope.rawValue] = "required" }
        for scope in staticToken.optional { expected[scope.rawValue] = "optional" }
        for scope in Set(oauth.required).subtracting(staticToken.required) { expected[scope.rawValue] = "OAuth apps: required" }
        #expect(kinds == expected)
    }

    @Test func anOAuthAppRedirectsToTheCallback() throws {
        let files = try Self.json(HubSpotAppProject(publicURL: Self.publicURL + "/", authentication: .oauth))
        let auth = try #require((files["src/app/app-hsmeta.json"]?["config"] as? [String: Any])?["auth"] as? [String: Any])
        #expect(auth["type"] as? String == "oauth")
        #expect(auth["redirectUrls"] as? [String] == ["https://hubsignal.example.com/hubspot/oauth/callback"])
        #expect((auth["requiredScopes"] as? [String])?.contains("oauth") == true)
        let staticAuth = try #require(
            (try Self.json(Self.deployed)["src/app/app-hsmeta.json"]?["config"] as? [String: Any])?["auth"] as? [String: Any])
        #expect(staticAuth["type"] as? String == "static")
        #expect(staticAuth["redirectUrls"] == nil)
    }

    // MARK: - Webhooks HubSignal reads

    /// A v3 delivery of each subscription (the shape HubSpot documents for `contact.*` subscription types) is parsed
    /// into an event type HubSignal's projections consume, and every consumed contact type is subscribed.
    @Test func eachSubscriptionDeliversAnEventHubSignalConsumes() throws {
        let consumed: Set<EventType> = [
            .hubSpotContactPropertyChange, .hubSpotContactMerge, .hubSpotContactDeletion, .hubSpotContactPrivacyDeletion,
        ]
        let project = HubSpotAppProject(publicURL: Self.publicURL, properties: ["lifecyclestage", "email", ""])
        #expect(project.subscriptions.compactMap(\.propertyName) == ["email", "lifecyclestage"])
        var delivered: Set<EventType> = []
        for (index, subscription) in project.subscriptions.enumerated() {
            var event: [String: Any] = [
                "eventId": 100 + index, "subscriptionId": 200 + index, "portalId": 62515, "appId": 1160452, "occurredAt": 1_733_480_000_000,
                "subscriptionType": subscription.subscriptionType, "attemptNumber": 0, "objectId": 123, "changeSource": "CRM_UI",
            ]
            if let property = subscription.propertyName {
                event["propertyName"] = property
                event["propertyValue"] = "value"
            }
            if subscription.subscriptionType.hasSuffix(".merge") {
                event["primaryObjectId"] = 123
                event["mergedObjectIds"] = [456]
                event["newObjectId"] = 123
            }
            let body = try JSONValue.parse(Array(try JSONSerialization.data(withJSONObject: [event])))
            let result = try HubSpotWebhookParser.parse(body)
            #expect(result.rejected.isEmpty, "\(subscription.subscriptionType): \(result.rejected)")
            let type = try #require(result.accepted.first?.type)
            #expect(consumed.contains(type), "\(subscription.subscriptionType) is delivered as \(type), which HubSignal does not read")
            delivered.insert(type)
        }
        #expect(delivered == consumed)
        // Why the generic group is not used: its deliveries name object.*, a type HubSignal does not read.
        #expect(!consumed.contains(.hubSpotWebhook("object.propertyChange")))
        #expect(project.subscriptions.allSatisfy { $0.group != .crmObjects })
    }

    // MARK: - The command

    @Test func hubspotAppWritesTheProject() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hubspot-app-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CommandLineTests.hubsignal(
            ["hubspot", "app", "--output", folder.path, "--auth", "oauth", "--onesignal-app", "main", "--onesignal-app", "beta",
             "--property", "lifecyclestage"],
            database: nil, environment: ["HUBSIGNAL_PUBLIC_URL": "https://signal.example.org"])
        #expect(run.status == 0, "\(run.errors)")
        let expected = HubSpotAppProject(
            publicURL: "https://signal.example.org", authentication: .oauth, oneSignalApps: ["main", "beta"], properties: ["lifecyclestage"])
        for file in try expected.files() {
            #expect(try Data(contentsOf: folder.appendingPathComponent(file.path)) == file.contents, "\(file.path)")
            #expect(run.output.contains(file.path))
        }
        #expect(run.output.contains("hs project upload"))

        // Without --property, the mapping's hubspot_to_onesignal properties are subscribed (and email).
        let mapping = folder.appendingPathComponent("hubsignal.yaml")
        try Data("hubspot_to_onesignal: { properties: { lifecyclestage: lifecycle_stage, hs_lead_status: lead } }\n".utf8).write(to: mapping)
        let fromMapping = try CommandLineTests.hubsignal(
            ["hubspot", "app", "--output", folder.appendingPathComponent("mapped").path], database: nil,
            environment: ["HUBSIGNAL_PUBLIC_URL": "https://signal.example.org", "HUBSIGNAL_MAPPING": mapping.path])
        #expect(fromMapping.status == 0, "\(fromMapping.errors)")
        let webhooks = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("mapped/src/app/webhooks/webhooks-hsmeta.json"))) as? [String: Any]
        let legacy = ((webhooks?["config"] as? [String: Any])?["subscriptions"] as? [String: Any])?["legacyCrmObjects"] as? [[String: Any]]
        #expect(legacy?.compactMap { $0["propertyName"] as? String } == ["email", "hs_lead_status", "lifecyclestage"])

        let bad = try CommandLineTests.hubsignal(
            ["hubspot", "app", "--output", folder.path, "--auth", "apikey"], database: nil,
            environment: ["HUBSIGNAL_PUBLIC_URL": "https://signal.example.org"])
        #expect(bad.status != 0)
        #expect(bad.errors.contains("use static or oauth"))
        let noURL = try CommandLineTests.hubsignal(["hubspot", "app", "--output", folder.path], database: nil, environment: ["HUBSIGNAL_PUBLIC_URL": ""])
        #expect(noURL.status != 0)
        #expect(noURL.errors.contains("HUBSIGNAL_PUBLIC_URL"))
    }
}

/// The rules HubSpot's developer platform documents for project files (sources in `docs/hubspot-app.md`): required
/// fields, the `uid` pattern and length, the enums, and the combinations HubSpot refuses. Independent of the generator:
/// the enums are written here as the docs and the automation v4 spec give them.
enum HubSpotProjectRules {
    static let platformVersions: Set<String> = ["2025.2", "2026.03"]
    static let folderTypes = ["app": "app", "webhooks": "webhooks", "workflow-actions": "workflow-action"]
    static let inputTypes: Set<String> = ["bool", "date", "datetime", "enumeration", "json", "number", "object_coordinates", "phone_number", "string"]
    static let fieldTypes: Set<String> = [
        "booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number", "phonenumber", "radio", "select", "text",
        "textarea",
    ]
    static let valueTypes: Set<String> = ["STATIC_VALUE", "OBJECT_PROPERTY"]
    static let subscriptionGroups: Set<String> = ["crmObjects", "legacyCrmObjects", "hubEvents"]

    /// Every rule `files` (path → JSON object) breaks, one sentence each.
    static func problems(in files: [String: [String: Any]]) -> [String] {
        var problems: [String] = []
        if let project = files["hsproject.json"] {
            if (project["name"] as? String)?.isEmpty != false { problems.append("hsproject.json: name is required") }
            if project["srcDir"] as? String != "src" { problems.append("hsproject.json: srcDir must be src (the files are under src/)") }
            if !platformVersions.contains(project["platformVersion"] as? String ?? "") {
                problems.append("hsproject.json: platformVersion must be one of \(platformVersions.sorted())")
            }
        } else {
            problems.append("hsproject.json is missing")
        }
        var uids: [String: String] = [:]
        for (path, file) in files.sorted(by: { $0.key < $1.key }) where path != "hsproject.json" {
            // The app's file sits at the root of src/app/, each feature's at the root of its folder.
            let parts = path.split(separator: "/").map(String.init)
            let folder = parts.count == 3 ? "app" : parts.count == 4 && parts[2] != "app" ? parts[2] : ""
            guard parts.count >= 3, parts[0] == "src", parts[1] == "app", parts.last!.hasSuffix("-hsmeta.json"),
                let folderType = folderTypes[folder]
            else {
                problems.append("\(path): a component is src/app/<name>-hsmeta.json or src/app/<feature folder>/<name>-hsmeta.json")
                continue
            }
            let uid = file["uid"] as? String ?? ""
            if uid.isEmpty || uid.count > 64 || !uid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) {
                problems.append("\(path): uid must be 1–64 characters of letters, digits, _, - and .")
            }
            if let other = uids[uid] { problems.append("\(path): uid \(uid) is not unique (also \(other))") }
            uids[uid] = path
            if file["type"] as? String != folderType { problems.append("\(path): type must be \(folderType), matching its folder") }
            guard let config = file["config"] as? [String: Any] else {
                problems.append("\(path): config is required")
                continue
            }
            switch folderType {
            case "app": problems += appProblems(config, path)
            case "webhooks": problems += webhookProblems(config, path)
            default: problems += actionProblems(config, path)
            }
        }
        if !files.keys.contains("src/app/app-hsmeta.json") { problems.append("src/app/app-hsmeta.json is missing") }
        return problems
    }

    static func appProblems(_ config: [String: Any], _ path: String) -> [String] {
        var problems: [String] = []
        let name = config["name"] as? String ?? ""
        if name.isEmpty || name.count > 200 || name.first?.isWhitespace == true || name.last?.isWhitespace == true {
            problems.append("\(path): name must be 1–200 characters without leading or trailing whitespace")
        }
        let description = config["description"] as? String ?? ""
        if description.isEmpty || description.count > 8192 { problems.append("\(path): description must be 1–8192 characters") }
        let distribution = config["distribution"] as? String ?? ""
        if !["private", "marketplace"].contains(distribution) { problems.append("\(path): distribution must be private or marketplace") }
        guard let auth = config["auth"] as? [String: Any] else { return problems + ["\(path): auth is required"] }
        let type = auth["type"] as? String ?? ""
        switch type {
        case "static":
            if distribution == "marketplace" { problems.append("\(path): a marketplace app uses oauth, not static auth") }
            if auth["redirectUrls"] != nil { problems.append("\(path): static auth has no redirectUrls") }
        case "oauth":
            let urls = auth["redirectUrls"] as? [String] ?? []
            if urls.isEmpty || !urls.allSatisfy({ $0.hasPrefix("https://") || $0.hasPrefix("http://localhost") }) {
                problems.append("\(path): oauth needs redirectUrls (https, or http://localhost)")
            }
        default:
            problems.append("\(path): auth.type must be static or oauth")
        }
        let required = auth["requiredScopes"] as? [String]
        let optional = auth["optionalScopes"] as? [String] ?? []
        if required?.isEmpty != false { problems.append("\(path): auth.requiredScopes must name at least one scope") }
        if !Set(required ?? []).isDisjoint(with: optional) { problems.append("\(path): a scope cannot be both required and optional") }
        return problems
    }

    static func webhookProblems(_ config: [String: Any], _ path: String) -> [String] {
        var problems: [String] = []
        let settings = config["settings"] as? [String: Any]
        if !((settings?["targetUrl"] as? String)?.hasPrefix("https://") ?? false) {
            problems.append("\(path): settings.targetUrl is required (https)")
        }
        if ((settings?["maxConcurrentRequests"] as? Int) ?? 0) < 1 { problems.append("\(path): settings.maxConcurrentRequests must be positive") }
        let subscriptions = config["subscriptions"] as? [String: Any] ?? [:]
        for (group, entries) in subscriptions {
            guard subscriptionGroups.contains(group) else {
                problems.append("\(path): subscription group \(group) is not one of \(subscriptionGroups.sorted())")
                continue
            }
            for entry in entries as? [[String: Any]] ?? [] {
                let type = entry["subscriptionType"] as? String ?? ""
                if type.isEmpty || entry["active"] as? Bool == nil { problems.append("\(path): a subscription needs subscriptionType and active") }
                if type.hasSuffix(".propertyChange") && (entry["propertyName"] as? String)?.isEmpty != false {
                    problems.append("\(path): \(type) needs a propertyName")
                }
                if group == "crmObjects" && entry["objectType"] == nil { problems.append("\(path): a crmObjects subscription needs objectType") }
                if group == "legacyCrmObjects" && type.hasPrefix("object.") { problems.append("\(path): object.* belongs in crmObjects") }
            }
        }
        return problems
    }

    static func actionProblems(_ config: [String: Any], _ path: String) -> [String] {
        var problems: [String] = []
        if !((config["actionUrl"] as? String)?.hasPrefix("https://") ?? false) { problems.append("\(path): actionUrl is required (https)") }
        if config["published"] != nil { problems.append("\(path): a project names it isPublished, not published") }
        let clients = config["supportedClients"] as? [[String: Any]] ?? []
        if clients.isEmpty || !clients.allSatisfy({ ($0["client"] as? String)?.isEmpty == false }) {
            problems.append("\(path): supportedClients must list at least one client")
        }
        if (config["objectTypes"] as? [String])?.isEmpty != false { problems.append("\(path): objectTypes must name an object type") }
        let english = (config["labels"] as? [String: Any])?["en"] as? [String: Any]
        if (english?["actionName"] as? String)?.isEmpty != false { problems.append("\(path): labels.en.actionName is required") }
        for input in config["inputFields"] as? [[String: Any]] ?? [] {
            let definition = input["typeDefinition"] as? [String: Any] ?? [:]
            let name = definition["name"] as? String ?? "?"
            if (definition["name"] as? String)?.isEmpty != false { problems.append("\(path): an input needs typeDefinition.name") }
            let type = definition["type"] as? String ?? ""
            if !inputTypes.contains(type) { problems.append("\(path): input \(name): type \(type) is not one of the spec's") }
            if let fieldType = definition["fieldType"] as? String, !fieldTypes.contains(fieldType) {
                problems.append("\(path): input \(name): fieldType \(fieldType) is not one of the spec's")
            }
            guard let options = definition["options"] as? [[String: Any]] else {
                problems.append("\(path): input \(name): typeDefinition.options is required (the spec marks it so)")
                continue
            }
            // An enumeration lists its options, or names the URL the editor fetches them from (external options).
            let optionsURL = definition["optionsUrl"] as? String
            if type == "enumeration" && options.isEmpty && optionsURL == nil {
                problems.append("\(path): input \(name): an enumeration needs options or an optionsUrl")
            }
            if let optionsURL, !optionsURL.hasPrefix("https://") { problems.append("\(path): input \(name): optionsUrl must be https") }
            if !options.allSatisfy({ $0["label"] is String && $0["value"] is String }) {
                problems.append("\(path): input \(name): each option needs a label and a value")
            }
            let values = input["supportedValueTypes"] as? [String] ?? []
            if values.isEmpty || !Set(values).isSubset(of: valueTypes) {
                problems.append("\(path): input \(name): supportedValueTypes must be among \(valueTypes.sorted())")
            }
            if input["isRequired"] as? Bool == nil { problems.append("\(path): input \(name): isRequired is required") }
        }
        for output in config["outputFields"] as? [[String: Any]] ?? [] {
            let definition = output["typeDefinition"] as? [String: Any] ?? [:]
            if (definition["name"] as? String)?.isEmpty != false || (definition["type"] as? String)?.isEmpty != false {
                problems.append("\(path): an output needs typeDefinition.name and type")
            }
        }
        return problems
    }
}
