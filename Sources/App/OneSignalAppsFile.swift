import Foundation
import Yams

/// A configured OneSignal app: where its tags and notifications go, and how its event stream authenticates.
public struct OneSignalAppConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The app's name in HubSignal: workflow actions' `app` input, the mapping's `onesignal.apps` rules, and the `app`
    /// column of `sync_status`, `devices` and `message_activity`.
    public var name: String
    /// OneSignal's app id (a UUID).
    public var appID: String
    /// The app's REST API key.
    public var apiKey: String
    /// The secret its event stream sends as `Authorization: Bearer …`; `nil`: `ONESIGNAL_WEBHOOK_SECRET`.
    public var webhookSecret: String?
    /// The plan's tags per user; `nil`: the mapping's `onesignal.tag_limit`.
    public var tagLimit: Int?

    public init(name: String, appID: String, apiKey: String, webhookSecret: String? = nil, tagLimit: Int? = nil) {
        self.name = name
        self.appID = appID.lowercased()
        self.apiKey = apiKey
        self.webhookSecret = webhookSecret
        self.tagLimit = tagLimit
    }

    /// Name and id only: the key and the secret never reach logs.
    public var description: String { "\(name) (\(appID))" }
}

/// The configuration file (`HUBSIGNAL_CONFIG`, YAML): settings (the documented environment variables, which the
/// environment overrides) and the OneSignal apps of a several-app set-up.
///
/// ```yaml
/// environment:               # any documented variable; the process environment wins
///   HUBSIGNAL_PORT: 8080
///   HUBSPOT_RATE_LIMIT: 190
/// onesignal_apps:            # the first is the default (workflow actions without an `app` input)
///   - name: acme-ios
///     app_id: 8250eaf6-1a58-489e-b136-7c74a864b434
///     api_key: ${ACME_IOS_ONESIGNAL_API_KEY}      # ${NAME}: from the environment, so secrets stay out of the file
///     webhook_secret: ${ACME_IOS_STREAM_SECRET}
///     tag_limit: 10
/// ```
enum OneSignalAppsFile {
    static func read(path: String, environment: [String: String]) throws -> [OneSignalAppConfiguration] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("HUBSIGNAL_CONFIG=\(path) cannot be read: \(error.localizedDescription)")
        }
        return try parse(text, path: path, environment: environment)
    }

    static func parse(_ text: String, path: String, environment: [String: String]) throws -> [OneSignalAppConfiguration] {
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError("\(path) is not valid YAML: \(error)")
        }
        guard let root = document as? [String: Any] else {
            if document == nil { return [] }
            throw ConfigurationError("\(path): expected a mapping with the key onesignal_apps")
        }
        for key in root.keys where key != "onesignal_apps" && key != "environment" {
            throw ConfigurationError("\(path): unknown key '\(key)'; this file holds environment and onesignal_apps")
        }
        guard let list = root["onesignal_apps"] else { return [] }
        guard let entries = list as? [[String: Any]] else {
            throw ConfigurationError("\(path): onesignal_apps must be a list of apps, each with name, app_id and api_key")
        }
        var apps: [OneSignalAppConfiguration] = []
        for (index, entry) in entries.enumerated() {
            let place = "\(path): onesignal_apps[\(index)]"
            let known: Set = ["name", "app_id", "api_key", "webhook_secret", "tag_limit"]
            for key in entry.keys where !known.contains(key) {
                throw ConfigurationError("\(place): unknown key '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
            }
            func text(_ key: String, required: Bool) throws -> String? {
                guard let raw = entry[key] else {
                    if required { throw ConfigurationError("\(place): '\(key)' is required") }
                    return nil
                }
                let value = try expand("\(raw)", at: "\(place).\(key)", environment: environment)
                if value.isEmpty && required { throw ConfigurationError("\(place): '\(key)' is empty") }
                return value.isEmpty ? nil : value
            }
            let name = try text("name", required: true)!
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), name.count <= 64 else {
                throw ConfigurationError("\(place): name '\(name)' must be letters, digits, - and _ (at most 64)")
            }
            guard !apps.contains(where: { $0.name == name }) else {
                throw ConfigurationError("\(place): the name '\(name)' is used twice")
            }
            let appID = try text("app_id", required: true)!
            guard UUID(uuidString: appID) != nil else {
                throw ConfigurationError("\(place): app_id must be the OneSignal app id, a UUID (Settings > Keys & IDs)")
            }
            guard !apps.contains(where: { $0.appID == appID.lowercased() }) else {
                throw ConfigurationError("\(place): the app_id of '\(name)' is also another app's")
            }
            var tagLimit: Int?
            if let raw = entry["tag_limit"] {
                guard let value = raw as? Int, value > 0 else {
                    throw ConfigurationError("\(place): tag_limit must be a positive number (OneSignal plans: 2, 10 or 100)")
                }
                tagLimit = value
            }
            apps.append(
                OneSignalAppConfiguration(
                    name: name, appID: appID, apiKey: try text("api_key", required: true)!,
                    webhookSecret: try text("webhook_secret", required: false), tagLimit: tagLimit))
        }
        return apps
    }

    /// The file's `environment` section: documented variable names → values (`${NAME}` expanded).
    static func variables(path: String, environment: [String: String]) throws -> [String: String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("HUBSIGNAL_CONFIG=\(path) cannot be read: \(error.localizedDescription)")
        }
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError("\(path) is not valid YAML: \(error)")
        }
        guard let section = (document as? [String: Any])?["environment"] else { return [:] }
        guard let entries = section as? [String: Any] else {
            throw ConfigurationError("\(path): environment must be a mapping of variable names to values")
        }
        var variables: [String: String] = [:]
        for (name, value) in entries {
            guard name == "DATABASE_URL" || ["HUBSIGNAL_", "HUBSPOT_", "ONESIGNAL_"].contains(where: name.hasPrefix),
                name != "HUBSIGNAL_CONFIG"
            else {
                throw ConfigurationError(
                    "\(path): environment.\(name) is not a HubSignal variable (DATABASE_URL, HUBSIGNAL_*, HUBSPOT_*, ONESIGNAL_*)")
            }
            guard value is String || value is Int || value is Bool || value is Double else {
                throw ConfigurationError("\(path): environment.\(name) must be a single value")
            }
            variables[name] = try expand("\(value)", at: "\(path): environment.\(name)", environment: environment)
        }
        return variables
    }

    /// Replaces `${NAME}` with the environment variable `NAME` (which must be set).
    static func expand(_ value: String, at place: String, environment: [String: String]) throws -> String {
        var result = ""
        var rest = Substring(value)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigurationError("\(place): '${' without a closing '}'")
            }
            let name = String(rest[start.upperBound..<end])
            guard let variable = environment[name], !variable.isEmpty else {
                throw ConfigurationError("\(place) names the environment variable \(name), which is not set")
            }
            result += variable
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
