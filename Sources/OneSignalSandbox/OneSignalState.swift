/// Everything a sandbox holds: the state of each app (by lower-case app id) and counters across apps.
struct OneSignalState: Sendable {
    /// The apps, by lower-case id.
    var apps: [String: OneSignalAppState]
    /// How many requests were answered `429`.
    var rateLimitedResponses = 0

    /// The state of every configured app, empty.
    init(configuration: OneSignalSandbox.Configuration) {
        let limits = OneSignalAppState.Limits(
            subscriptionsPerUser: configuration.maximumSubscriptionsPerUser, customAliases: configuration.maximumCustomAliases)
        var apps: [String: OneSignalAppState] = [:]
        for app in configuration.apps {
            apps[app.id] = OneSignalAppState(app: app, limits: limits, clock: configuration.rateLimits.clock)
        }
        self.apps = apps
    }

    /// The id of the app whose API key is `key`, if any.
    func appID(forKey key: String) -> String? {
        apps.values.first { $0.app.apiKey == key }?.app.id
    }
}
