import API
import Foundation
import Logging
import OneSignal

extension HubSignalService {
    /// The configured OneSignal apps' templates for the workflow editor's template list
    /// (``HubSpotActionOptionsController``): each app read through its own client, kept for five minutes.
    static func makeTemplateOptionsCache(_ configuration: AppConfiguration, logger: Logger) -> TemplateOptionsCache {
        var clients: [String: OneSignalClient] = [:]
        for app in configuration.oneSignalApps where clients[app.name] == nil {
            clients[app.name] = makeOneSignalClient(app, configuration, logger: logger)
        }
        let byName = clients
        return TemplateOptionsCache(apps: configuration.oneSignalApps.map(\.name)) { app in
            guard let client = byName[app] else { return [] }
            return try await client.allTemplates().map {
                TemplateOption(id: $0.id, name: $0.name, channel: $0.channel, updatedAt: $0.updatedAt)
            }
        }
    }
}
