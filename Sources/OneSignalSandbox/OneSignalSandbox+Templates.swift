import Foundation

/// Seeding and reading an app's message templates (the templates API serves them; OneSignal's dashboard makes them).
extension OneSignalSandbox {
    /// Adds a template to app `appID`, as OneSignal's dashboard would, and returns it.
    ///
    /// - Parameters:
    ///   - channel: `push` (default), `email` or `sms`.
    ///   - id: the template id; a new UUID by default.
    /// - Throws: `OneSignalSandboxError` when the app is unknown, the channel is not one of the three, or the id is no
    ///   UUID or already taken.
    @discardableResult
    public func seedTemplate(appID: String, name: String, channel: String = "push", id: String? = nil) throws -> OneSignalTemplate {
        let id = (id ?? UUID().uuidString).lowercased()
        guard UUID(uuidString: id) != nil else { throw OneSignalSandboxError(status: 400, body: "template id \(id) is not a UUID") }
        guard OneSignalTemplate.channels.contains(channel) else {
            throw OneSignalSandboxError(status: 400, body: "channel must be one of push, email, sms")
        }
        let now = Date()
        let template = OneSignalTemplate(id: id, name: name, channel: channel, createdAt: now, updatedAt: now)
        let added = api.state.withLock { state -> Bool in
            guard var app = state.apps[appID.lowercased()], !app.templates.contains(where: { $0.id == id }) else { return false }
            app.templates.append(template)
            state.apps[appID.lowercased()] = app
            return true
        }
        guard added else { throw OneSignalSandboxError(status: 400, body: "no app \(appID), or it has a template \(id) already") }
        return template
    }

    /// The templates of app `appID`, oldest first.
    public func templates(appID: String) -> [OneSignalTemplate] {
        api.state.withLock { $0.apps[appID.lowercased()]?.templates ?? [] }
    }
}
