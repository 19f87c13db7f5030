import Foundation

/// Who a notification reaches (§4.1, §4.3) and the segments it may name (§6).
extension OneSignalAppState {
    /// The outcome of resolving a notification's targeting.
    struct Resolution: Sendable {
        /// Subscribed subscriptions of the channel, once each.
        var recipients: [OneSignalNotification.Recipient] = []
        /// Aliases whose matching subscriptions are unsubscribed, once per such subscription (§4.3).
        var invalidAliases: [String: [String]] = [:]
        /// The channel sent on.
        var channel: String
    }

    /// The names every app has as segments, matching every subscribed subscription.
    static let builtInSegments: Set<String> = ["Subscribed Users", "Total Subscriptions", "All", "Active Users"]

    /// Resolves `request` to recipients. Unknown aliases, subscriptions, segments and tokens are ignored.
    func resolve(_ request: NotificationRequest) throws(OneSignalError) -> Resolution {
        var resolution = Resolution(channel: request.channel ?? "push")
        var seen = Set<String>()
        func add(_ subscription: OneSignalSubscription, of user: OneSignalUser) {
            guard seen.insert(subscription.id).inserted else { return }
            resolution.recipients.append(
                .init(
                    onesignalID: user.onesignalID, externalID: user.externalID, subscriptionID: subscription.id,
                    subscriptionType: subscription.type, token: subscription.token))
        }
        func addUsers(_ matching: [OneSignalUser]) {
            for user in matching {
                for subscription in user.subscriptions where subscription.channel == resolution.channel && subscription.isSubscribed {
                    add(subscription, of: user)
                }
            }
        }
        switch request.targeting {
        case .aliases(let labels):
            for label in labels.keys.sorted() {
                for id in labels[label] ?? [] {
                    guard let user = user(label: label, id: id) else { continue }
                    for subscription in user.subscriptions where subscription.channel == resolution.channel {
                        if subscription.isSubscribed {
                            add(subscription, of: user)
                        } else {
                            resolution.invalidAliases[label, default: []].append(id)
                        }
                    }
                }
            }
        case .subscriptionIDs(let ids):
            let found = ids.compactMap { subscription(id: $0) }
            let channels = Set(found.map(\.0.channel))
            if channels.count > 1 || (request.channel != nil && channels.contains { $0 != request.channel }) {
                throw .invalidRequest(
                    "Platforms You may only send to one delivery channel at a time. Make sure you are only including one of push platforms, Email, or SMS.",
                    envelope: .basic)
            }
            if let channel = channels.first { resolution.channel = channel }
            for (subscription, owner) in found where subscription.isSubscribed {
                add(subscription, of: owner)
            }
        case .segments(let included, let excluded):
            let users = allUsers
            let includedUsers = users.filter { user in included.contains { inSegment(named: $0, user: user) } }
            addUsers(includedUsers.filter { user in !excluded.contains { inSegment(named: $0, user: user) } })
        case .filters(let filters):
            addUsers(allUsers.filter { SegmentFilter.matches(filters, user: $0) })
        case .emails(let tokens):
            addTokens(Set(tokens), types: ["Email"], add: add)
        case .phoneNumbers(let tokens):
            addTokens(Set(tokens), types: ["SMS"], add: add)
        case .pushTokens(let tokens):
            addTokens(Set(tokens), types: Set(OneSignalSubscription.channels.filter { $0.value == "push" }.keys), add: add)
        }
        return resolution
    }

    private func inSegment(named name: String, user: OneSignalUser) -> Bool {
        if Self.builtInSegments.contains(name) { return true }
        guard let segment = segments.first(where: { $0.name == name }) else { return false }
        return SegmentFilter.matches(segment.filters, user: user)
    }

    private func addTokens(
        _ tokens: Set<String>, types: Set<String>, add: (OneSignalSubscription, OneSignalUser) -> Void
    ) {
        for user in allUsers {
            for subscription in user.subscriptions
            where types.contains(subscription.type) && subscription.isSubscribed && subscription.token.map(tokens.contains) == true {
                add(subscription, user)
            }
        }
    }
}
