import Domain
import Ingestion

/// A OneSignal app contacts' tags can go to, as the configuration names it (issue 9: one app per brand or platform).
///
/// Part of the `Mapping` the read models are built with (not of the mapping file): `sync_status` holds one OneSignal
/// row per contact and app, with the app's own tag limit, and message events are attributed to apps by their id.
/// Changing the configured apps changes the mapping version, so the read models are rebuilt.
public struct OneSignalAppTarget: Sendable, Equatable {
    /// The app's name in the configuration, workflow actions (`app` input) and the read models.
    public var name: String
    /// OneSignal's app id (a UUID), as message events carry it; `nil` when unknown (the single-app shorthand without
    /// `ONESIGNAL_APP_ID`).
    public var appID: String?
    /// The app's plan tag limit; `nil`: the mapping's `onesignal.tag_limit`.
    public var tagLimit: Int?

    public init(name: String, appID: String? = nil, tagLimit: Int? = nil) {
        self.name = name
        self.appID = appID?.lowercased()
        self.tagLimit = tagLimit
    }

    /// The one app of a single-app set-up (`ONESIGNAL_*` variables), or of no OneSignal configuration at all.
    public static let `default` = OneSignalAppTarget(name: "default")

    var canonical: JSONValue {
        .object([
            "name": .string(name), "app_id": appID.map(JSONValue.string) ?? .null,
            "tag_limit": tagLimit.map { .int(Int64($0)) } ?? .null,
        ])
    }
}

extension Mapping {
    /// This mapping for these configured OneSignal apps (in configuration order; the first is the default).
    public func targeting(oneSignalApps apps: [OneSignalAppTarget]) -> Mapping {
        Mapping(
            contacts: contacts, oneSignal: oneSignal, behavioralEvents: behavioralEvents, pageViews: pageViews,
            companies: companies, customObjects: customObjects, audiences: audiences, hubSpotToOneSignal: hubSpotToOneSignal,
            timeline: timeline, oneSignalApps: apps.isEmpty ? [.default] : apps)
    }

    /// The app with OneSignal id `appID` (message events name their app by id).
    public func oneSignalApp(withID appID: String) -> OneSignalAppTarget? {
        oneSignalApps.first { $0.appID == appID.lowercased() }
    }

    /// The apps that get a contact's tags, by the mapping's `onesignal.apps` rule.
    public func oneSignalApps(traits: [String: JSONValue], writeKeyID: String?) -> [OneSignalAppTarget] {
        let names = oneSignal.apps.apps(traits: traits, writeKeyID: writeKeyID, configured: oneSignalApps.map(\.name))
        return oneSignalApps.filter { names.contains($0.name) }
    }

    /// The tag limit of `app`: its own, else the mapping's.
    public func tagLimit(of app: OneSignalAppTarget) -> Int {
        app.tagLimit ?? oneSignal.tagLimit
    }
}
