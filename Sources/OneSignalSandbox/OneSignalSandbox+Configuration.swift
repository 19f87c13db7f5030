import Foundation
import Logging

extension OneSignalSandbox {
    /// What a sandbox serves: its apps, limits, and where it listens.
    public struct Configuration: Sendable {
        /// A OneSignal app of the sandbox.
        public struct App: Sendable {
            /// The app id (a UUID string); requests name it in the path or in `app_id`.
            public var id: String
            /// The app API key requests must send as `Authorization: Key <apiKey>`.
            public var apiKey: String
            /// The per-user tag cap of the app's plan (§5: Free 2, Growth 10, Professional 100).
            public var tagLimit: Int
            /// A display name.
            public var name: String

            /// An app with `id`, `apiKey`, a tag cap of `tagLimit` (default 10, the Growth plan's) and `name`.
            public init(id: String, apiKey: String, tagLimit: Int = 10, name: String = "Sandbox app") {
                self.id = id.lowercased()
                self.apiKey = apiKey
                self.tagLimit = tagLimit
                self.name = name
            }
        }

        /// How tag values that are not strings are treated (§5: "All tag values must be strings").
        public enum TagValuePolicy: Sendable {
            /// Numbers and booleans become their text (`42` → `"42"`, `true` → `"true"`), as the legacy API and
            /// OneSignal's SDKs do; arrays and objects are refused with `400`.
            case coerceScalars
            /// Anything but a string (or `null`/`""`, which delete) is refused with `400`.
            case stringsOnly
        }

        /// Where and how message events go out automatically after each notification (§8.1).
        public struct MessageEventStream: Sendable {
            /// HubSignal's webhook URL (e.g. `http://127.0.0.1:8080/webhooks/onesignal`).
            public var url: URL
            /// The static header the stream sends, e.g. `Authorization: Bearer <secret>`.
            public var secretHeader: MessageEventEmitter.Header
            /// The body template.
            public var template: MessageEventTemplate
            /// The kinds sent for each recipient, in order: short names (`sent`, `delivered`, `clicked`, `failed`)
            /// or full kinds (`message.push.clicked`).
            public var kinds: [String]

            /// A stream to `url` with `secretHeader`, sending `kinds` (default `sent` then `delivered`) per recipient.
            public init(
                url: URL, secretHeader: MessageEventEmitter.Header, template: MessageEventTemplate = .flat,
                kinds: [String] = ["sent", "delivered"]
            ) {
                self.url = url
                self.secretHeader = secretHeader
                self.template = template
                self.kinds = kinds
            }
        }

        /// The apps served.
        public var apps: [App]
        /// The rate limits (§7); `.disabled` for tests that do not exercise them.
        public var rateLimits: RateLimits
        /// The address to listen on.
        public var host: String
        /// The port to listen on; `0` picks a free one.
        public var port: Int
        /// How non-string tag values are treated.
        public var tagValuePolicy: TagValuePolicy
        /// A limit on tag key length; `nil` (default) for none, as OneSignal publishes none (§5).
        public var maximumTagKeyLength: Int?
        /// A limit on tag value length; `nil` (default) for none.
        public var maximumTagValueLength: Int?
        /// Entries allowed per targeting list in one create notification (§4.1: 2,000 in the specs, 20,000 in the docs).
        public var maximumRecipientsPerRequest: Int
        /// Subscriptions a user may have (§2: 20).
        public var maximumSubscriptionsPerUser: Int
        /// Custom aliases a user may have besides `external_id` and `onesignal_id` (§2: 20).
        public var maximumCustomAliases: Int
        /// How long an idempotency key is remembered (§4.4: 30 days).
        public var idempotencyWindow: Duration
        /// Message events sent automatically after each notification; `nil` (default) for none.
        public var messageEvents: MessageEventStream?
        /// The level of the server's own log.
        public var logLevel: Logger.Level
        /// How many recent requests ``OneSignalSandbox/requests`` keeps; `nil` (default) keeps all, for tests.
        public var requestLogLimit: Int?
        /// Whether `POST /apps/{app_id}/users` naming an existing user's alias applies the body's `properties` (tags)
        /// to that user, as the docs' `202` example shows (default `true`); `false` models the narrower reading of the
        /// reference ("modify the subscriptions associated with an existing User"): aliases and subscriptions only,
        /// the answer showing the user's tags as they were.
        public var createAppliesPropertiesToExistingUsers = true

        /// A sandbox serving `apps`.
        public init(
            apps: [App], rateLimits: RateLimits = .oneSignal, host: String = "127.0.0.1", port: Int = 0,
            tagValuePolicy: TagValuePolicy = .coerceScalars, maximumRecipientsPerRequest: Int = 2_000,
            messageEvents: MessageEventStream? = nil, logLevel: Logger.Level = .warning
        ) {
            self.apps = apps
            self.rateLimits = rateLimits
            self.host = host
            self.port = port
            self.tagValuePolicy = tagValuePolicy
            self.maximumTagKeyLength = nil
            self.maximumTagValueLength = nil
            self.maximumRecipientsPerRequest = maximumRecipientsPerRequest
            self.maximumSubscriptionsPerUser = 20
            self.maximumCustomAliases = 20
            self.idempotencyWindow = .seconds(30 * 24 * 3600)
            self.messageEvents = messageEvents
            self.logLevel = logLevel
            self.requestLogLimit = nil
        }

        /// A sandbox serving one app.
        public init(
            appID: String, apiKey: String, tagLimit: Int = 10, name: String = "Sandbox app",
            rateLimits: RateLimits = .oneSignal, host: String = "127.0.0.1", port: Int = 0
        ) {
            self.init(
                apps: [App(id: appID, apiKey: apiKey, tagLimit: tagLimit, name: name)], rateLimits: rateLimits, host: host,
                port: port)
        }
    }
}
