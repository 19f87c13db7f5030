import Domain
import EventStore
import Foundation
import Ingestion
import Logging
import Mapping
import Metrics
import OneSignal
import PQ
import ServiceLifecycle

/// Pushes contacts' data tags to one OneSignal app (only the difference, one user call each, at most one per user per
/// `spacing`), creates audience segments, and sends the notifications HubSpot workflows ask for.
///
/// Every outcome is recorded as a result event (`EventType/oneSignalUserSynced`, `EventType/oneSignalDeliveryFailed`,
/// …) in the transaction that records it in the ledger. Tags HubSignal set that the mapping no longer gives are
/// removed; tags set by others are never touched (see docs/onesignal-sync.md).
public struct OneSignalSync: Service, ClaimingWorker {
    /// How the worker batches, coalesces and retries.
    public struct Configuration: Sendable {
        /// The app's name in the configuration and in result events (`default` for the single-app variables).
        public var app: String = "default"
        /// Users claimed per round (default 200).
        public var batchSize: Int = 200
        /// Calls in flight at once (default 16).
        public var concurrency: Int = 16
        /// A contact is pushed once its tags have not changed for this long (coalescing; default 1 s).
        public var linger: Duration = .seconds(1)
        /// The least time between two pushes to one user (OneSignal: one write per second per user; default 1 s).
        public var spacing: Duration = .seconds(1)
        /// How long a claim holds users before another worker may take them, when the worker is hung but still
        /// connected (the claims of a worker whose ``holder`` session ended are taken over at once; default 2 minutes).
        public var lease: Duration = .seconds(120)
        /// How often to look for work when there was none (default 500 ms).
        public var pollInterval: Duration = .milliseconds(500)
        /// Backoff and dead letters.
        public var retry = RetryPolicy()
        /// This worker's name in the ledger (leases) and in `hubsignal status`.
        public var owner: String
        /// Whether this worker runs the `onesignal-actions` subscription that queues workflow notifications for every
        /// app (one worker per process does; default `true`).
        public var runsOutbox = true
        /// Ties this worker's claims to the life of its process (see ``ClaimHolder``), run by the caller. `nil`
        /// (default): `run()` holds its own, on one more connection; `runOnce()` ties claims to the lease only.
        public var holder: ClaimHolder?

        public init(owner: String, app: String = "default") {
            self.owner = owner
            self.app = app
        }
    }

    public let configuration: Configuration
    let client: OneSignalClient
    let ledger: DeliveryLedger
    let store: EventStore
    let database: PQClient
    let mapping: Mapping
    let logger: Logger
    /// Fills `onesignal_outbox` (workflow-sent notifications) from the log; `nil` when another worker does.
    let outbox: Subscription?
    /// Completes HubSpot workflow actions after the notification was sent; `nil` without HubSpot credentials.
    let completer: WorkflowActionCompleter?
    /// The ``ClaimHolder`` token of the round in progress, carried by its claims (`nil`: the lease only).
    var claimToken: Int64?

    public init(
        configuration: Configuration, client: OneSignalClient, database: PQClient, store: EventStore, mapping: Mapping,
        completer: WorkflowActionCompleter? = nil, watcher: LogWatcher = LogWatcher(), logger: Logger
    ) {
        self.configuration = configuration
        self.client = client
        self.ledger = DeliveryLedger(client: database)
        self.database = database
        self.store = store
        self.mapping = mapping
        self.completer = completer
        self.logger = logger
        self.outbox =
            configuration.runsOutbox
            ? OneSignalOutbox(defaultApp: mapping.oneSignalApps[0].name).makeSubscription(store: store, watcher: watcher, logger: logger)
            : nil
    }

    public func run() async throws {
        logger.info("OneSignal sync started", metadata: ["worker": "\(configuration.owner)", "app": "\(configuration.app)"])
        let owned = configuration.holder == nil ? ClaimHolder(connectionString: database.configuration.connectionString, logger: logger) : nil
        let holder = configuration.holder ?? owned
        try await SyncRounds.run(
            name: "OneSignal sync", outbox: outbox, holder: owned, pollInterval: configuration.pollInterval, logger: logger,
            round: { try await runOnce(steppingOutbox: false, holder: holder) }, record: { await record(error: $0) })
        logger.info("OneSignal sync stopped", metadata: ["worker": "\(configuration.owner)"])
    }

    /// One round: a batch of users' tags and of workflow notifications. Returns how many objects were claimed (0: no
    /// work).
    ///
    /// - Parameter steppingOutbox: whether to move the outbox subscription one batch first (`run()` runs it on its own).
    @discardableResult
    public func runOnce(steppingOutbox: Bool = true) async throws -> Int {
        try await runOnce(steppingOutbox: steppingOutbox, holder: configuration.holder)
    }

    func claimingRound(steppingOutbox: Bool) async throws -> Int {
        if steppingOutbox, let outbox { _ = try await outbox.processNextBatch() }
        var claimed = try await pushUsers()
        claimed += try await sendNotifications()
        claimed += try await pushSegments()
        return claimed
    }

    // MARK: - Tags

    /// This app's tag limit: its own (configuration), else the mapping's.
    var tagLimit: Int {
        mapping.tagLimit(of: mapping.oneSignalApps.first { $0.name == configuration.app } ?? OneSignalAppTarget(name: configuration.app))
    }

    /// Claims a batch of users, pushes their tags concurrently and records the outcomes. Returns how many were claimed.
    func pushUsers() async throws -> Int {
        let claimed = try await ledger.claimOneSignalUsers(
            app: configuration.app, limit: configuration.batchSize, linger: configuration.linger, spacing: configuration.spacing,
            lease: configuration.lease, owner: configuration.owner, holder: claimToken,
            externalIDProperty: mapping.oneSignal.externalIDProperty)
        guard !claimed.isEmpty else { return 0 }
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        var lastError: String?
        await withTaskGroup(of: UserResult.self) { group in
            var pending = claimed[...]
            func startNext() {
                guard let user = pending.popFirst() else { return }
                group.addTask { await push(user) }
            }
            for _ in 0..<min(configuration.concurrency, claimed.count) { startNext() }
            for await result in group {
                outcomes[result.contactID] = result.outcome
                events += result.events
                if let error = result.error { lastError = error }
                startNext()
            }
        }
        try await ledger.finish(
            kind: .user(app: configuration.app), outcomes: outcomes, events: events,
            owner: configuration.owner, holder: claimToken, store: store)
        await record(error: lastError)
        return claimed.count
    }

    struct UserResult: Sendable {
        var contactID: String
        var outcome: DeliveryLedger.Outcome
        var events: [NewEvent] = []
        var error: String?
    }

    /// OneSignal accepts at most 100 tag updates per request.
    static let maximumTagUpdates = 100

    /// The tag updates that make OneSignal hold `desired`: changed values, and removals (`nil`) of tags HubSignal set
    /// that are no longer desired. Removals first, then by name; at most `maximumTagUpdates`, the rest in `remaining`.
    ///
    /// OneSignal refuses a whole update that would take a user past the tag limit, counting before the update's own
    /// removals ("delete first, in a separate request, then add"): when the tags HubSignal set plus the new ones would
    /// exceed `tagLimit`, this push only removes, and the new tags follow in the next one.
    ///
    /// After a failed or interrupted attempt (`attempts` > 0), whose outcome is unknown, every desired tag is sent
    /// again: an earlier attempt may have landed values that have since changed back to what was acknowledged.
    static func changes(
        desired: [String: JSONValue], acknowledged: [String: JSONValue], tagLimit: Int, attempts: Int = 0
    ) -> (updates: [String: String?], remaining: Int) {
        var removals: [String] = []
        var sets: [String] = []
        var newKeys = 0
        for (tag, value) in desired where attempts != 0 || (acknowledged[tag] ?? .null) != value {
            if value == .null {
                removals.append(tag)
            } else {
                sets.append(tag)
                if (acknowledged[tag] ?? .null) == .null { newKeys += 1 }
            }
        }
        for (tag, value) in acknowledged where desired[tag] == nil && value != .null { removals.append(tag) }
        let held = acknowledged.values.filter { $0 != .null }.count
        if !removals.isEmpty && newKeys > 0 && held + newKeys > tagLimit {
            let ordered = removals.sorted()
            var updates: [String: String?] = [:]
            for tag in ordered.prefix(maximumTagUpdates) { updates.updateValue(nil, forKey: tag) }
            return (updates, sets.count + max(ordered.count - maximumTagUpdates, 0))
        }
        let ordered = removals.sorted() + sets.sorted()
        var updates: [String: String?] = [:]
        for tag in ordered.prefix(maximumTagUpdates) {
            updates.updateValue(desired[tag].flatMap(\.scalarText), forKey: tag)
        }
        return (updates, max(ordered.count - maximumTagUpdates, 0))
    }

    /// The external id OneSignal knows the contact by: the value of `onesignal.external_id_property` when it has one,
    /// else its `userId`, or its email when the mapping matches by email.
    func externalID(of user: DeliveryLedger.ClaimedUser) -> String? {
        if let value = user.propertyExternalID { return value }
        switch mapping.oneSignal.matchBy {
        case .externalID: return user.userID
        case .email: return user.email
        }
    }

    /// One user's push: a create-or-update for a user OneSignal never acknowledged (docs/onesignal-sync.md), else an
    /// update, or a create on `404`.
    func push(_ user: DeliveryLedger.ClaimedUser) async -> UserResult {
        guard let externalID = externalID(of: user) else {
            // Lost its external id since it was claimed (a rebuild): nothing to push until it has one.
            return UserResult(contactID: user.contactID, outcome: .done(desiredHash: user.desiredHash))
        }
        let (updates, remaining) = Self.changes(
            desired: user.desired, acknowledged: user.acknowledged, tagLimit: tagLimit, attempts: user.attempts)
        // More than one request's worth: the rest goes out in the next push (another hash keeps the contact due).
        var hash = remaining > 0 ? "partial:\(user.desiredHash)" : user.desiredHash
        var acknowledged = user.acknowledged
        for (tag, value) in updates {
            if let value { acknowledged[tag] = .string(value) } else { acknowledged[tag] = nil }
        }
        guard !updates.isEmpty else {
            return UserResult(contactID: user.contactID, outcome: .done(desiredHash: hash, acknowledged: acknowledged))
        }
        let alias = OneSignalClient.Alias.externalID(externalID)
        let rules = mapping.oneSignal
        do {
            var created = false
            var oneSignalID: String?
            if rules.unmatchedUsers == .skip {
                // Only users OneSignal has get tags, as Segment's destination does: an update, and no create on 404.
                guard try await client.updateTags(of: alias, updates) else {
                    return unmatched(user, externalID: externalID, updates: updates)
                }
            } else if !user.everAcknowledged {
                // Never acknowledged in this app: most likely a new user, so one create-or-update, instead of an update
                // answered 404 then a create. When the answer does not show every tag held (an existing user), only
                // what it shows counts as acknowledged and the contact stays due: the next push (a second later, as
                // OneSignal allows one write per user per second) updates the rest.
                let answer = try await client.upsertUser(alias, tags: updates, subscriptions: subscriptions(of: user))
                created = answer.isNew
                oneSignalID = answer.oneSignalID
                if !answer.holds(updates) {
                    for (tag, value) in updates where value != nil && answer.tags?[tag] != value { acknowledged[tag] = nil }
                    hash = "partial:\(user.desiredHash)"
                }
            } else if try await !client.updateTags(of: alias, updates) {
                let tags = acknowledged.compactMapValues { $0.scalarText.map(Optional.some) }
                oneSignalID = try await client.createUser(alias, tags: tags, subscriptions: subscriptions(of: user))
                created = true
            }
            let payload = OneSignalUserSynced(
                contactID: user.contactID, externalID: externalID, app: configuration.app, tags: acknowledged, sent: updates.keys.sorted(),
                created: created, oneSignalID: oneSignalID)
            let event = resultEvent(payload, user: user, key: hash != user.desiredHash ? "partial" : "synced")
            counter("synced").increment()
            // After an attempt with an unknown outcome, that request may still be applied late, over this one.
            let outcome: DeliveryLedger.Outcome =
                user.attempts > 0
                ? .confirm(after: client.configuration.timeout, desiredHash: hash, acknowledged: acknowledged)
                : .done(desiredHash: hash, acknowledged: acknowledged)
            return UserResult(contactID: user.contactID, outcome: outcome, events: [event])
        } catch {
            return failed(user, updates: updates, error: error)
        }
    }

    /// The subscriptions `onesignal.subscriptions` asks to create with the user: its email, and its phone when it is
    /// in E.164 form (a phone that is not is left out: OneSignal refuses the whole create for it).
    func subscriptions(of user: DeliveryLedger.ClaimedUser) -> [OneSignalClient.NewSubscription] {
        let kinds = mapping.oneSignal.traitSubscriptions
        var subscriptions: [OneSignalClient.NewSubscription] = []
        if kinds.contains(.email), let email = user.email { subscriptions.append(.email(email)) }
        if kinds.contains(.sms), let phone = user.phone, let token = OneSignalRules.TraitSubscription.smsToken(fromPhone: phone) {
            subscriptions.append(.sms(token))
        }
        return subscriptions
    }

    /// A contact without a OneSignal user under `onesignal.unmatched_users: skip`: left out for these tags (a dead
    /// letter saying why, and its event), tried again when its tags change.
    func unmatched(_ user: DeliveryLedger.ClaimedUser, externalID: String, updates: [String: String?]) -> UserResult {
        let reason =
            "OneSignal has no user with external id \(externalID), and onesignal.unmatched_users is skip: HubSignal does "
            + "not create users (the app's SDK does, on login); tried again when the contact's tags change"
        let event = resultEvent(
            OneSignalDeliveryFailed(contactID: user.contactID, app: configuration.app, reason: reason, tags: updates.keys.sorted()),
            user: user, key: "unmatched")
        counter("unmatched").increment()
        return UserResult(contactID: user.contactID, outcome: .dead(desiredHash: user.desiredHash, reason: reason), events: [event], error: reason)
    }

    /// A failed push: retried with backoff while it can pass, else a dead letter with OneSignal's reason.
    func failed(_ user: DeliveryLedger.ClaimedUser, updates: [String: String?], error: any Error) -> UserResult {
        let oneSignalError = error as? OneSignalError
        let reason = Self.reason(error)
        let attempts = user.attempts + 1
        // A wrong key or a missing permission is fixed by the operator: keep trying, it is not the user's fault.
        let fixable = oneSignalError?.code == .unauthorized
        if (oneSignalError?.isRetryable ?? true) && attempts < configuration.retry.maximumAttempts || fixable {
            counter("retry").increment()
            logger.warning("OneSignal push failed; retrying", metadata: ["contact": "\(user.contactID)", "error": "\(oneSignalError?.code.rawValue ?? "error")"])
            return UserResult(
                contactID: user.contactID,
                outcome: .retry(after: configuration.retry.delay(afterAttempts: attempts, atLeast: oneSignalError?.retryAfter), reason: reason),
                error: reason)
        }
        let finalReason = oneSignalError?.isRetryable ?? true ? "gave up after \(attempts) attempts: \(reason)" : reason
        let event = resultEvent(
            OneSignalDeliveryFailed(contactID: user.contactID, app: configuration.app, reason: finalReason, tags: updates.keys.sorted()),
            user: user, key: "dead")
        counter("dead").increment()
        logger.warning("OneSignal refused a user's tags; the reason is in sync_status and deliveries.last_error", metadata: ["contact": "\(user.contactID)"])
        return UserResult(
            contactID: user.contactID, outcome: .dead(desiredHash: user.desiredHash, reason: finalReason), events: [event], error: reason)
    }

    static func reason(_ error: any Error) -> String {
        guard let error = error as? OneSignalError else { return "\(error)" }
        switch error.code {
        case .tagLimit:
            return "OneSignal refused the tags: the user is at the plan's tag limit (lower onesignal.tag_limit in the mapping, or remove tags set outside HubSignal): \(error.message)"
        default:
            return error.description
        }
    }

    private func counter(_ outcome: String) -> Counter {
        Counter(label: "hubsignal_delivery_objects_total", dimensions: [("destination", Destination.onesignal.rawValue), ("object", "users"), ("outcome", outcome)])
    }

    /// A result event; its idempotency key derives from what caused it (the contact's last change and its desired
    /// tags), so a retried push records its result once.
    func resultEvent<Payload: EventPayload>(_ payload: Payload, user: DeliveryLedger.ClaimedUser, key: String) -> NewEvent {
        resultEvent(
            payload, stream: "contact:\(user.contactID)",
            idempotencyKey: "\(Payload.eventType):\(configuration.app):\(user.contactID):\(user.updatedPosition):\(user.desiredHash):\(key)")
    }

    /// A result event of this worker, with the worker, the mapping version and the app as metadata.
    func resultEvent(_ payload: some EventPayload, stream: String, idempotencyKey: String) -> NewEvent {
        DeliveryLedger.resultEvent(
            payload, stream: stream, idempotencyKey: idempotencyKey,
            metadata: [
                "worker": .string(configuration.owner), "mappingVersion": .string(mapping.version), "app": .string(configuration.app),
            ])
    }

    // MARK: - Status

    /// The worker's name in `delivery_workers`: the owner, and the app unless it is `default`.
    var workerName: String {
        configuration.app == "default" ? configuration.owner : "\(configuration.owner)/\(configuration.app)"
    }

    /// Records this worker's rate-limit budget and last error for `hubsignal status`.
    func record(error: String?) async {
        let users = await client.userWrites.budget
        let sends = await client.notifications.budget
        let budget: [String: JSONValue] = [
            "app": .string(configuration.app),
            "userWritesAvailable": .int(Int64(users.available)), "notificationsAvailable": .int(Int64(sends.available)),
            "paused": .bool(users.paused || sends.paused),
        ]
        if let failure = await ledger.recordWorker(destination: .onesignal, worker: workerName, budget: budget, error: error) {
            logger.debug("could not record the worker's status", metadata: ["error": "\(failure)"])
        }
    }
}

extension OneSignalSync: CustomStringConvertible {
    /// How ServiceLifecycle's logs name the worker: its app and owner only (its client holds the app's API key).
    public var description: String { "OneSignalSync(app: \(configuration.app), owner: \(configuration.owner))" }
}
