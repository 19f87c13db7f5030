import Foundation

/// HubSignal as a HubSpot developer-platform **project**: the files `hs project upload` takes to create the app
/// (`hsproject.json`, `src/app/app-hsmeta.json`, the webhook subscriptions and the two custom workflow actions), for a
/// public base URL.
///
/// ```swift
/// let project = HubSpotAppProject(publicURL: "https://hubsignal.example.com")
/// try project.write(to: URL(fileURLWithPath: "hubspot-app"))
/// ```
///
/// Everything comes from the definitions the code uses: the actions from ``WorkflowActionDefinitions``, the scopes
/// from ``HubSpotEndpoint/all`` (through ``HubSpotAppScopes``), the subscriptions from ``HubSpotWebhookSubscription``.
/// The file layout and fields follow HubSpot's developer platform `2026.03` (see `docs/hubspot-app.md` for the pages
/// they were read from).
public struct HubSpotAppProject: Sendable, Hashable {
    /// How accounts install the app (`config.auth.type`).
    public enum Authentication: String, Sendable, Hashable, CaseIterable {
        /// One account; HubSpot shows a static access token after the install (`HUBSPOT_ACCESS_TOKEN`).
        case staticToken = "static"
        /// Installed through OAuth (`/hubspot/oauth/install`); HubSignal exchanges and refreshes the tokens.
        case oauth
    }

    /// The developer platform version the files are written for (`hsproject.json`).
    public static let platformVersion = "2026.03"
    /// The path, under the public URL, that HubSpot redirects an OAuth install to.
    public static let oauthCallbackPath = "/hubspot/oauth/callback"
    /// The path, under the public URL, that webhook deliveries are sent to.
    public static let webhookPath = "/webhooks/hubspot"
    /// The concurrent webhook requests HubSpot may make (`settings.maxConcurrentRequests`).
    public static let maxConcurrentWebhookRequests = 10

    /// The external base URL HubSpot calls (`HUBSIGNAL_PUBLIC_URL`), without a trailing slash.
    public var publicURL: String
    /// How accounts install the app.
    public var authentication: Authentication
    /// The workflow actions (their URLs and the OneSignal apps a workflow can choose).
    public var actions: WorkflowActionDefinitions
    /// The webhook subscriptions HubSignal consumes.
    public var subscriptions: [HubSpotWebhookSubscription]

    /// - Parameters:
    ///   - publicURL: the external base URL (a trailing slash is dropped).
    ///   - authentication: static (one account, the default) or OAuth.
    ///   - oneSignalApps: the OneSignal app names a workflow can choose (none: no `app` input).
    ///   - properties: the contact properties whose changes HubSignal reads (`hubspot_to_onesignal` in the mapping);
    ///     `email` is always subscribed. Send-notification also asks HubSpot for them with each request (besides
    ///     ``WorkflowActionDefinitions/commonContactProperties``), for its texts' `{{ contact.<property> }}`.
    public init(publicURL: String, authentication: Authentication = .staticToken, oneSignalApps: [String] = [], properties: [String] = []) {
        self.actions = WorkflowActionDefinitions(publicURL: publicURL, appNames: oneSignalApps, contactProperties: properties.sorted())
        self.publicURL = actions.publicURL
        self.authentication = authentication
        self.subscriptions = HubSpotWebhookSubscription.consumed(properties: properties)
    }

    /// The scopes the app asks for.
    public var scopes: HubSpotAppScopes { .forAuthentication(authentication) }

    // MARK: - Files

    /// One file of the project: its path relative to the project folder and its contents.
    public struct File: Sendable, Hashable {
        /// E.g. `src/app/app-hsmeta.json`.
        public var path: String
        /// Pretty-printed JSON with sorted keys and a final newline.
        public var contents: Data
    }

    /// The uid of the app component.
    public static let appUID = "hubsignal_app"
    /// The uid of the webhooks component.
    public static let webhooksUID = "hubsignal_webhooks"

    /// The uid of an action's component, e.g. `hubsignal_send_notification`.
    public static func uid(of action: WorkflowActionDefinitions.Action) -> String {
        "hubsignal_" + action.rawValue.replacingOccurrences(of: "-", with: "_")
    }

    /// Every file of the project, in a fixed order: `hsproject.json`, the app, the webhooks, the actions.
    public func files() throws -> [File] {
        var files = [
            try Self.file("hsproject.json", ProjectFile(name: "hubsignal", srcDir: "src", platformVersion: Self.platformVersion)),
            try Self.file("src/app/app-hsmeta.json", Component(uid: Self.appUID, type: "app", config: appConfig)),
            try Self.file(
                "src/app/webhooks/webhooks-hsmeta.json", Component(uid: Self.webhooksUID, type: "webhooks", config: webhooksConfig)),
        ]
        for (action, definition) in actions.all {
            files.append(
                try Self.file(
                    "src/app/workflow-actions/\(action.rawValue)-hsmeta.json",
                    Component(uid: Self.uid(of: action), type: "workflow-action", config: WorkflowActionConfig(definition: definition))))
        }
        return files
    }

    /// Writes ``files()`` under `directory` (created as needed), replacing files of the same name; other files are left.
    ///
    /// - Returns: the files written.
    @discardableResult
    public func write(to directory: URL) throws -> [File] {
        let files = try files()
        for file in files {
            let url = directory.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.contents.write(to: url, options: .atomic)
        }
        return files
    }

    private static func file(_ path: String, _ value: some Encodable) throws -> File {
        var data = try HubSpotActionDefinition.prettyEncoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return File(path: path, contents: data)
    }

    // MARK: - Components

    private struct ProjectFile: Encodable {
        var name: String
        var srcDir: String
        var platformVersion: String
    }

    private struct Component<Config: Encodable>: Encodable {
        var uid: String
        var type: String
        var config: Config
    }

    private struct AppConfig: Encodable {
        struct Auth: Encodable {
            var type: String
            var redirectUrls: [String]?
            var requiredScopes: [String]
            var optionalScopes: [String]
            var conditionallyRequiredScopes: [String]
        }

        struct PermittedURLs: Encodable {
            var fetch: [String] = []
            var iframe: [String] = []
            var img: [String] = []
        }

        var name: String
        var description: String
        var distribution: String
        var auth: Auth
        var permittedUrls = PermittedURLs()
    }

    private var appConfig: AppConfig {
        let scopes = scopes
        return AppConfig(
            name: "HubSignal",
            description: """
                HubSignal syncs Segment-style customer events into HubSpot contacts, companies and timelines, and sends \
                OneSignal notifications and tag edits from HubSpot workflows. It runs at \(publicURL).
                """,
            distribution: "private",
            auth: .init(
                type: authentication.rawValue,
                redirectUrls: authentication == .oauth ? [publicURL + Self.oauthCallbackPath] : nil,
                requiredScopes: scopes.required.map(\.rawValue), optionalScopes: scopes.optional.map(\.rawValue),
                conditionallyRequiredScopes: []))
    }

    private struct WebhooksConfig: Encodable {
        struct Settings: Encodable {
            var targetUrl: String
            var maxConcurrentRequests: Int
        }

        var settings: Settings
        var subscriptions: [String: [HubSpotWebhookSubscription]]
    }

    private var webhooksConfig: WebhooksConfig {
        WebhooksConfig(
            settings: .init(targetUrl: publicURL + Self.webhookPath, maxConcurrentRequests: Self.maxConcurrentWebhookRequests),
            subscriptions: Dictionary(grouping: subscriptions, by: \.group.rawValue))
    }

    /// A workflow action as the project file takes it: the v4 definition's fields, with `published` named
    /// `isPublished`, the `supportedClients` the project requires, and no `functions` (HubSignal defines none);
    /// `objectRequestOptions` and `inputFieldDependencies` when the definition has them.
    private struct WorkflowActionConfig: Encodable {
        var definition: HubSpotActionDefinition

        enum CodingKeys: String, CodingKey {
            case actionUrl, isPublished, supportedClients, objectTypes, inputFields, outputFields, labels
            case objectRequestOptions, inputFieldDependencies
        }

        struct Client: Encodable {
            var client: String
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(definition.actionUrl, forKey: .actionUrl)
            try container.encode(definition.published, forKey: .isPublished)
            try container.encode([Client(client: "WORKFLOWS")], forKey: .supportedClients)
            try container.encode(definition.objectTypes, forKey: .objectTypes)
            try container.encode(definition.inputFields, forKey: .inputFields)
            try container.encode(definition.outputFields, forKey: .outputFields)
            try container.encode(definition.labels, forKey: .labels)
            try container.encodeIfPresent(definition.objectRequestOptions, forKey: .objectRequestOptions)
            try container.encodeIfPresent(definition.inputFieldDependencies, forKey: .inputFieldDependencies)
        }
    }
}

/// The scopes HubSignal's app asks for, derived from ``HubSpotEndpoint/all``: a scope is **optional** when the feature
/// that needs it exists only on some HubSpot plans (so the app installs on every plan, and the feature works where the
/// account has it); every other scope of an endpoint HubSignal calls is **required**.
public struct HubSpotAppScopes: Sendable, Hashable {
    /// Scopes every install must grant, sorted.
    public var required: [HubSpotScope]
    /// Scopes granted when the account's plan has them, sorted.
    public var optional: [HubSpotScope]

    /// The scopes whose features need a higher plan, with the feature:
    /// - custom objects (`custom_objects:` in the mapping): Enterprise;
    /// - behavioral events and their definitions (`hubspot_timeline.mode: behavioral_event`): Enterprise;
    /// - timeline events v3 (`timeline_event`): apps that own a template (legacy public apps);
    /// - workflow action callbacks (`automation`): workflows exist on Professional and Enterprise hubs only.
    public static let planDependent: [HubSpotScope: String] = [
        .customObjectsRead: "custom objects (Enterprise)",
        .customObjectsWrite: "custom objects (Enterprise)",
        .customSchemasRead: "custom objects (Enterprise)",
        .behavioralEventsSend: "behavioral events (Enterprise)",
        .eventDefinitions: "behavioral event definitions (Enterprise)",
        .timeline: "timeline events v3 (apps owning a timeline template)",
        .automation: "workflow action callbacks (workflows: Professional and Enterprise)",
    ]

    /// Scopes needed beyond the endpoints' own: reading contacts, which the contact webhook subscriptions require.
    public static let forWebhooks: [HubSpotScope] = [.contactsRead]

    /// The scopes for an app of the given kind: an OAuth app also requires `oauth`.
    public static func forAuthentication(_ authentication: HubSpotAppProject.Authentication) -> HubSpotAppScopes {
        var all = Set(HubSpotEndpoint.all.compactMap(\.scope))
        all.formUnion(forWebhooks)
        var required = all.filter { planDependent[$0] == nil }
        if authentication == .oauth { required.insert(.oauth) }
        return HubSpotAppScopes(required: required.sorted(), optional: all.filter { planDependent[$0] != nil }.sorted())
    }
}

/// One webhook subscription of the app (`webhooks/*-hsmeta.json`), in the group that makes HubSpot deliver it with
/// the `subscriptionType` HubSignal's webhook endpoint reads (`contact.propertyChange`, `contact.merge`,
/// `contact.deletion`, `contact.privacyDeletion`).
///
/// The generic `crmObjects` subscriptions (`object.propertyChange` with `objectType: contact`) are not used: HubSpot
/// delivers them as `subscriptionType: object.propertyChange` with an `objectTypeId`, which HubSignal does not read.
public struct HubSpotWebhookSubscription: Sendable, Hashable, Encodable {
    /// The group of `subscriptions` the entry belongs to.
    public enum Group: String, Sendable, Hashable, CaseIterable {
        /// `object.*` subscriptions with an `objectType` (not used by HubSignal).
        case crmObjects
        /// `contact.*`-style subscriptions, delivered with the legacy subscription type.
        case legacyCrmObjects
        /// Account-level events such as `contact.privacyDeletion`.
        case hubEvents
    }

    /// Which group the subscription is listed in.
    public var group: Group
    /// E.g. `contact.propertyChange`; what deliveries carry as `subscriptionType`.
    public var subscriptionType: String
    /// The property of a `…propertyChange` subscription.
    public var propertyName: String?
    /// Whether HubSpot sends it.
    public var active: Bool

    public init(_ group: Group, _ subscriptionType: String, propertyName: String? = nil, active: Bool = true) {
        self.group = group
        self.subscriptionType = subscriptionType
        self.propertyName = propertyName
        self.active = active
    }

    enum CodingKeys: String, CodingKey {
        case subscriptionType, propertyName, active
    }

    /// The property always subscribed: a contact's email is how HubSignal recognises the person.
    public static let identityProperty = "email"

    /// The subscriptions HubSignal consumes: a property change for `email` and each of `properties` (sorted,
    /// duplicates dropped), merges, deletions, and privacy deletions.
    public static func consumed(properties: [String] = []) -> [HubSpotWebhookSubscription] {
        let names = Set(properties.filter { !$0.isEmpty } + [identityProperty]).sorted()
        return names.map { HubSpotWebhookSubscription(.legacyCrmObjects, "contact.propertyChange", propertyName: $0) } + [
            HubSpotWebhookSubscription(.legacyCrmObjects, "contact.merge"),
            HubSpotWebhookSubscription(.legacyCrmObjects, "contact.deletion"),
            HubSpotWebhookSubscription(.hubEvents, "contact.privacyDeletion"),
        ]
    }
}
