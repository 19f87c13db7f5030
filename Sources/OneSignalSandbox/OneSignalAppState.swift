import SandboxKit
import Domain
import Foundation

/// The in-memory state of one sandbox app: users with their aliases and subscriptions, notifications, idempotency
/// keys, segments and rate-limit windows. A value type guarded by the sandbox's lock.
struct OneSignalAppState: Sendable {
    /// A subscription as a create-user or create-subscription body gives it.
    struct SubscriptionInput: Sendable {
        var id: String?
        /// Required to create; `nil` in an update leaves the type as it is.
        var type: String?
        var token: String?
        var enabled: Bool?
        var notificationTypes: Int?
        var details: [String: JSONValue]
    }

    /// A result stored under an idempotency key.
    struct IdempotentResult: Sendable {
        let body: JSONValue
        let storedAt: ContinuousClock.Instant
    }

    let app: OneSignalSandbox.Configuration.App
    let limits: Limits
    private(set) var users: [String: OneSignalUser] = [:]
    /// Insertion order of users, for stable listings.
    private(set) var userOrder: [String] = []
    /// label → alias id → onesignal_id.
    private var aliasIndex: [String: [String: String]] = [:]
    /// subscription id → onesignal_id of its owner.
    private var subscriptionOwners: [String: String] = [:]
    /// (type, token) → subscription id.
    private var subscriptionTokens: [TokenKey: String] = [:]
    var notifications: [OneSignalNotification] = []
    var idempotency: [String: IdempotentResult] = [:]
    var segments: [OneSignalSegment] = []
    /// Message templates, oldest first (`GET /templates`).
    var templates: [OneSignalTemplate] = []
    var rateLimiters: AppRateLimiters

    /// A subscription's type and token, the key under which OneSignal finds an existing subscription.
    private struct TokenKey: Hashable, Sendable {
        let type: String
        let token: String
    }

    /// The limits of the configuration that state changes enforce.
    struct Limits: Sendable {
        var subscriptionsPerUser: Int
        var customAliases: Int
    }

    init(app: OneSignalSandbox.Configuration.App, limits: Limits, clock: SandboxClock) {
        self.app = app
        self.limits = limits
        self.rateLimiters = AppRateLimiters(clock: clock)
    }

    // MARK: - Lookups

    /// The `onesignal_id` of the user with alias `label` = `id`.
    func userID(label: String, id: String) -> String? {
        if label == "onesignal_id" { return users[id.lowercased()] != nil ? id.lowercased() : nil }
        return aliasIndex[label]?[id]
    }

    /// The user with alias `label` = `id`.
    func user(label: String, id: String) -> OneSignalUser? {
        userID(label: label, id: id).flatMap { users[$0] }
    }

    /// All users, oldest first.
    var allUsers: [OneSignalUser] {
        userOrder.compactMap { users[$0] }
    }

    /// The owner of subscription `id`.
    func owner(ofSubscription id: String) -> OneSignalUser? {
        subscriptionOwners[id.lowercased()].flatMap { users[$0] }
    }

    /// The subscription with `id` and its owner.
    func subscription(id: String) -> (OneSignalSubscription, OneSignalUser)? {
        guard let owner = owner(ofSubscription: id),
            let subscription = owner.subscriptions.first(where: { $0.id == id.lowercased() })
        else { return nil }
        return (subscription, owner)
    }

    /// The subscription of `type` with `token`, and its owner.
    func subscription(type: String, token: String) -> (OneSignalSubscription, OneSignalUser)? {
        subscriptionTokens[TokenKey(type: type, token: token)].flatMap { subscription(id: $0) }
    }

    // MARK: - Users

    /// Creates a user, or modifies the one the aliases name (§2.1). Returns whether a user was created and the user.
    mutating func createOrUpdateUser(
        aliases: [String: String], tags: [String: String?], properties: [String: JSONValue],
        subscriptions: [SubscriptionInput]
    ) throws(OneSignalError) -> (created: Bool, user: OneSignalUser) {
        var matches: [String: String] = [:]
        for (label, id) in aliases {
            if let owner = userID(label: label, id: id) { matches[label] = owner }
        }
        let owners = Set(matches.values)
        if owners.count > 1 {
            throw .conflictingAliases(matches.reduce(into: [:]) { result, match in result[match.key] = aliases[match.key] })
        }
        if let existing = owners.first, var user = users[existing] {
            try applyTags(tags, to: &user)
            try addAliases(aliases, to: &user)
            user.properties.merge(properties) { _, new in new }
            store(user)
            for input in subscriptions {
                _ = try attachSubscription(input, to: user.onesignalID)
            }
            return (false, users[existing] ?? user)
        }
        if aliases["onesignal_id"] != nil {
            throw .userNotFound(label: "onesignal_id", id: aliases["onesignal_id"] ?? "")
        }
        var user = OneSignalUser(
            onesignalID: UUID().uuidString.lowercased(), aliases: [:], tags: [:], properties: properties, subscriptions: [])
        try applyTags(tags, to: &user)
        if subscriptions.count > limits.subscriptionsPerUser { throw .subscriptionLimit(limits.subscriptionsPerUser) }
        try addAliases(aliases, to: &user)
        store(user)
        userOrder.append(user.onesignalID)
        for input in subscriptions {
            _ = try attachSubscription(input, to: user.onesignalID)
        }
        return (true, users[user.onesignalID] ?? user)
    }

    /// Applies a PATCH to user `id` (§2.3): tags merged (`nil` deletes), properties replaced member by member,
    /// deltas added.
    mutating func updateUser(
        id: String, tags: [String: String?], properties: [String: JSONValue], deltas: [String: JSONValue]
    ) throws(OneSignalError) {
        guard var user = users[id] else { return }
        try applyTags(tags, to: &user)
        user.properties.merge(properties) { _, new in new }
        for (name, delta) in deltas {
            switch (name, delta) {
            case ("purchases", .array(let purchases)):
                var all = user.properties["purchases"]?.arrayItems ?? []
                all += purchases
                user.properties["purchases"] = .array(all)
            case (_, .int(let amount)):
                if case .int(let current)? = user.properties[name] {
                    user.properties[name] = .int(current + amount)
                } else {
                    user.properties[name] = .int(amount)
                }
            default:
                continue
            }
        }
        store(user)
    }

    /// Removes user `id` with its aliases and subscriptions.
    mutating func deleteUser(id: String) {
        guard let user = users[id] else { return }
        var emptied = user
        emptied.subscriptions = []
        store(emptied)
        users.removeValue(forKey: id)
        userOrder.removeAll { $0 == id }
        for (label, alias) in user.aliases { aliasIndex[label]?.removeValue(forKey: alias) }
    }

    /// Adds or changes aliases of user `id` (§2: upsert aliases).
    mutating func upsertAliases(_ aliases: [String: String], userID id: String) throws(OneSignalError) -> OneSignalUser? {
        guard var user = users[id] else { return nil }
        try addAliases(aliases, to: &user)
        store(user)
        return user
    }

    /// Removes alias `label` of user `id`.
    mutating func deleteAlias(label: String, userID id: String) throws(OneSignalError) -> OneSignalUser? {
        guard var user = users[id] else { return nil }
        if label == "onesignal_id" {
            throw .invalidRequest("the onesignal_id alias cannot be deleted", envelope: .structured)
        }
        if let alias = user.aliases.removeValue(forKey: label) {
            aliasIndex[label]?.removeValue(forKey: alias)
        }
        store(user)
        return user
    }

    /// Merges `patch` into the user's tags within the app's cap (§5): `nil` deletes; new keys beyond the cap refuse
    /// the whole patch; changes to existing keys and deletes always pass.
    func applyTags(_ patch: [String: String?], to user: inout OneSignalUser) throws(OneSignalError) {
        guard !patch.isEmpty else { return }
        let newKeys = patch.filter { key, value in value != nil && user.tags[key] == nil }.count
        if newKeys > 0, user.tags.count + newKeys > app.tagLimit {
            throw .tagLimit(app.tagLimit)
        }
        for (key, value) in patch {
            user.tags[key] = value
        }
    }

    // MARK: - Subscriptions

    /// Gives user `ownerID` the subscription `input`: an existing one (same id, or same type and token) moves over,
    /// otherwise a new one is made. Returns whether it was created, and the subscription.
    mutating func attachSubscription(_ input: SubscriptionInput, to ownerID: String) throws(OneSignalError) -> (
        created: Bool, subscription: OneSignalSubscription
    ) {
        guard var owner = users[ownerID] else { throw .userNotFound(label: "onesignal_id", id: ownerID) }
        var existing: (OneSignalSubscription, OneSignalUser)?
        if let id = input.id { existing = subscription(id: id) }
        if existing == nil, let type = input.type, let token = input.token { existing = subscription(type: type, token: token) }
        if let (found, previousOwner) = existing {
            var moved = found
            apply(input, to: &moved)
            if previousOwner.onesignalID != ownerID {
                guard owner.subscriptions.count < limits.subscriptionsPerUser else {
                    throw .subscriptionLimit(limits.subscriptionsPerUser)
                }
                var previous = previousOwner
                previous.subscriptions.removeAll { $0.id == found.id }
                store(previous)
                owner.subscriptions.append(moved)
            } else {
                owner.subscriptions = owner.subscriptions.map { $0.id == moved.id ? moved : $0 }
            }
            store(owner)
            return (false, moved)
        }
        guard owner.subscriptions.count < limits.subscriptionsPerUser else {
            throw .subscriptionLimit(limits.subscriptionsPerUser)
        }
        guard let type = input.type else {
            throw .invalidRequest("subscription.type is required", envelope: .structured)
        }
        let enabled = input.enabled ?? true
        var created = OneSignalSubscription(
            id: UUID().uuidString.lowercased(), type: type, token: input.token, enabled: enabled,
            notificationTypes: input.notificationTypes ?? (enabled ? 1 : -31), details: [:])
        created.details = input.details
        owner.subscriptions.append(created)
        store(owner)
        return (true, created)
    }

    /// Changes subscription `id` (§2.4); returns it, or `nil` when there is none.
    mutating func updateSubscription(id: String, with input: SubscriptionInput) -> OneSignalSubscription? {
        guard let (found, owner) = subscription(id: id) else { return nil }
        var changed = found
        apply(input, to: &changed)
        var updated = owner
        updated.subscriptions = owner.subscriptions.map { $0.id == changed.id ? changed : $0 }
        store(updated)
        return changed
    }

    /// Deletes subscription `id`; whether there was one.
    mutating func deleteSubscription(id: String) -> Bool {
        guard let (found, owner) = subscription(id: id) else { return false }
        var updated = owner
        updated.subscriptions.removeAll { $0.id == found.id }
        store(updated)
        return true
    }

    /// Moves subscription `id` to user `ownerID`; the new owner, or `nil` when the subscription does not exist.
    mutating func transferSubscription(id: String, to ownerID: String) throws(OneSignalError) -> OneSignalUser? {
        guard let (found, _) = subscription(id: id) else { return nil }
        let input = SubscriptionInput(id: found.id, type: found.type, token: found.token, details: [:])
        _ = try attachSubscription(input, to: ownerID)
        return users[ownerID]
    }

    // MARK: - Helpers

    private func apply(_ input: SubscriptionInput, to subscription: inout OneSignalSubscription) {
        if let type = input.type { subscription.type = type }
        if let token = input.token { subscription.token = token }
        if let enabled = input.enabled {
            subscription.enabled = enabled
            if input.notificationTypes == nil { subscription.notificationTypes = enabled ? 1 : -31 }
        }
        if let types = input.notificationTypes { subscription.notificationTypes = types }
        subscription.details.merge(input.details) { _, new in new }
    }

    private mutating func addAliases(_ aliases: [String: String], to user: inout OneSignalUser) throws(OneSignalError) {
        for (label, id) in aliases.sorted(by: { $0.key < $1.key }) where label != "onesignal_id" {
            if let owner = aliasIndex[label]?[id], owner != user.onesignalID {
                throw .aliasClaimed(label: label, id: id)
            }
        }
        let custom = Set(user.aliases.keys).union(aliases.keys).subtracting(["external_id", "onesignal_id"])
        if custom.count > limits.customAliases { throw .aliasLimit(limits.customAliases) }
        for (label, id) in aliases where label != "onesignal_id" {
            if let previous = user.aliases[label] { aliasIndex[label]?.removeValue(forKey: previous) }
            user.aliases[label] = id
            aliasIndex[label, default: [:]][id] = user.onesignalID
        }
    }

    /// Saves `user`, keeping the subscription indexes (owner by id, id by type and token) in step with its
    /// subscriptions.
    private mutating func store(_ user: OneSignalUser) {
        for subscription in users[user.onesignalID]?.subscriptions ?? [] {
            if subscriptionOwners[subscription.id] == user.onesignalID {
                subscriptionOwners.removeValue(forKey: subscription.id)
            }
            if let token = subscription.token, subscriptionTokens[TokenKey(type: subscription.type, token: token)] == subscription.id {
                subscriptionTokens.removeValue(forKey: TokenKey(type: subscription.type, token: token))
            }
        }
        for subscription in user.subscriptions {
            subscriptionOwners[subscription.id] = user.onesignalID
            if let token = subscription.token {
                subscriptionTokens[TokenKey(type: subscription.type, token: token)] = subscription.id
            }
        }
        users[user.onesignalID] = user
    }
}
