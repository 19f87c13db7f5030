import Domain
import EventStore
import Foundation

/// An identity of a person (`identities.kind`: `user_id`, `anonymous_id`, `email`, `hubspot_id`, `onesignal_id`,
/// `external_id`) or of a company (`company_identities.kind`: `group_id`, `domain`, `hubspot_id`), and its value.
struct IdentityKey: Hashable, Sendable {
    var kind: String
    var value: String

    static func userID(_ value: String) -> IdentityKey { IdentityKey(kind: IdentityKeys.Name.userID.rawValue, value: value) }
    static func anonymousID(_ value: String) -> IdentityKey { IdentityKey(kind: IdentityKeys.Name.anonymousID.rawValue, value: value) }
    /// `value` must be normalised (`IdentityKeys.normalizedEmail`).
    static func email(_ value: String) -> IdentityKey { IdentityKey(kind: IdentityKeys.Name.email.rawValue, value: value) }
    static func hubSpotID(_ value: String) -> IdentityKey { IdentityKey(kind: IdentityKeys.Name.hubSpotID.rawValue, value: value) }
    static func oneSignalID(_ value: String) -> IdentityKey { IdentityKey(kind: IdentityKeys.Name.oneSignalID.rawValue, value: value) }
    /// A company's Segment group id (`company_identities`).
    static func groupID(_ value: String) -> IdentityKey { IdentityKey(kind: IdentityKeys.Name.groupID.rawValue, value: value) }
    /// A company's domain (`company_identities`).
    static func domain(_ value: String) -> IdentityKey { IdentityKey(kind: "domain", value: value) }
}

/// Where an identity points, and since when.
struct IdentityRecord: Sendable {
    var contactID: String
    var firstPosition: Int64
    var firstSeenAt: Date
}

/// Where a company identity points, and since when.
struct CompanyIdentityRecord: Sendable {
    var companyID: String
    var firstPosition: Int64
    var firstSeenAt: Date
}

/// One audience membership of a contact.
struct AudienceRecord: Sendable, Equatable {
    var isMember: Bool
    var status: String?
    var style: String
    var enteredAt: Date?
    var exitedAt: Date?
    var updatedAt: Date
}

/// A contact's link to a company.
struct CompanyLink: Sendable, Equatable {
    var firstSeenAt: Date
    var lastSeenAt: Date
    /// Whether HubSpot holds the association (hubsignal.hubspot.association_synced).
    var hubSpotAssociated = false
}

/// A contact with everything the projection keeps per contact (its row, audiences and company links).
struct ContactRecord: Sendable {
    var id: String
    var userID: String?
    var email: String?
    var traits: [String: JSONValue]
    var hubSpotValues: [String: JSONValue]
    var hubSpotContactID: String?
    var oneSignalID: String?
    /// What HubSpot and OneSignal last acknowledged (from result events); `nil`: never synced.
    var hubSpotAcknowledged: [String: JSONValue]?
    /// OneSignal: app name → the tags that app acknowledged.
    var oneSignalAcknowledged: [String: [String: JSONValue]]
    /// The reason of the last failed delivery, until the next acknowledgement or change of traits.
    var hubSpotFailure: String?
    /// OneSignal: app name → why that app refused the tags.
    var oneSignalFailures: [String: String]
    /// HubSpot property → why the sync left its value out (the property does not exist, HubSpot refused the value, a
    /// later lifecycle stage kept), from result events: shown in `sync_status.dropped`, not counted as pending. Held in
    /// memory only: after the projection reloads its cache from the tables it is empty until the contact's next result
    /// event (a rebuild replays the events and fills it).
    var hubSpotDropped: [String: String] = [:]
    var firstSeenAt: Date
    var lastSeenAt: Date
    var createdAt: LogCursor
    var updatedPosition: Int64
    var audiences: [String: AudienceRecord]
    /// Links to companies, by company id (possibly merged since: resolve it).
    var companies: [String: CompanyLink]
    /// OneSignal tags set by events other than identify — track properties (`onesignal.track_properties`) and HubSpot
    /// workflows ("Edit OneSignal tags") — tag → value (`null` removes). A later identify whose traits give the same
    /// tag takes it back.
    var oneSignalEventTags: [String: JSONValue] = [:]
    /// HubSpot contact properties from OneSignal message events (`hubspot_timeline.properties`): last activity times
    /// and subscription state per channel.
    var oneSignalActivity: [String: JSONValue] = [:]
    /// The id of the write key that last sent a Segment call for the contact (for `onesignal.apps: { by_write_key }`).
    var writeKeyID: String?

    func isOlder(than other: ContactRecord) -> Bool { createdAt < other.createdAt }
}

/// A company from group calls.
struct CompanyRecord: Sendable {
    var id: String
    var groupID: String
    var domain: String?
    var name: String?
    var traits: [String: JSONValue]
    var hubSpotProperties: [String: JSONValue]
    var hubSpotCompanyID: String?
    var firstSeenAt: Date
    var lastSeenAt: Date
    var createdPosition: Int64
    var updatedPosition: Int64
    /// Property values HubSpot last acknowledged; `nil` before the first sync.
    var hubSpotAcknowledged: [String: JSONValue]? = nil
    /// Why HubSpot last refused the company, until its values change.
    var hubSpotFailure: String? = nil
    /// HubSpot property → why the sync left its value out (as for contacts; in memory only).
    var hubSpotDropped: [String: String] = [:]
    /// Account-level audiences (Segment Engage) by audience key → whether the company is in it, from group calls: each
    /// becomes a company property (`accountAudienceProperties`). In memory; after a reload from the tables they are
    /// recognised again from the company's traits and the properties they gave (`CompanyAudiences.swift`).
    var accountAudiences: [String: Bool] = [:]

    /// Whether HubSpot lacks some of the desired values (failed or not: the delivery ledger knows what was refused);
    /// values the sync left out for a recorded reason do not count.
    var isHubSpotPending: Bool {
        hubSpotProperties.contains { name, value in hubSpotDropped[name] == nil && (hubSpotAcknowledged?[name] ?? .null) != value }
    }
}

/// A merge of one contact (or company) into another, as it happened.
struct ContactMerge: Sendable {
    var from: String
    var into: String
    var reason: String
    var position: Int64
    var at: Date
}

/// A OneSignal user or subscription seen for a contact.
struct DeviceRecord: Sendable {
    var app: String
    var deviceKey: String
    var contactID: String
    var oneSignalID: String?
    var externalID: String?
    var subscriptionID: String?
    var channel: String?
    /// The data tags OneSignal acknowledged for this user (`nil`: not known from this event).
    var tags: [String: JSONValue]?
    var lastEventAt: Date
}

/// One row of `message_activity`.
struct ActivityRecord: Sendable {
    var position: Int64
    var contactID: String?
    var app: String?
    var notificationID: String?
    var activity: String
    var channel: String?
    var kind: String
    var occurredAt: Date
    var details: JSONValue
}

/// The projection's working set: what it has loaded or written, and what changed since the last flush.
///
/// The cache stays valid across batches because one projector at a time writes the tables (the subscription's
/// advisory lock); the projector clears it whenever it cannot be sure (a failed batch, another writer).
struct PeopleState: Sendable {
    /// Identities known to point at a contact (loaded or created).
    var identities: [IdentityKey: IdentityRecord] = [:]
    /// Identities looked up and found nowhere.
    var absentIdentities: Set<IdentityKey> = []
    var contacts: [String: ContactRecord] = [:]
    /// Companies by company id; their identities (`group_id`, `domain`, `hubspot_id`) → company id, and identities
    /// looked up and found nowhere; merged company id → the company it went into.
    var companies: [String: CompanyRecord] = [:]
    var companyIdentities: [IdentityKey: CompanyIdentityRecord] = [:]
    var absentCompanyIdentities: Set<IdentityKey> = []
    var companyRedirects: [String: String] = [:]
    /// Merged contact id → the contact it went into (followed transitively).
    var redirects: [String: String] = [:]
    /// True when the cache holds every row of the tables (a rebuild into empty tables): nothing needs loading.
    var isComplete = false
    /// True while nothing has been written to the (empty) tables: the first write can then `COPY` every row.
    var tablesAreEmpty = false

    // Changes since the last flush.
    var dirtyIdentities: Set<IdentityKey> = []
    var dirtyContacts: Set<String> = []
    var dirtyCompanies: Set<String> = []
    var merges: [ContactMerge] = []
    var dirtyCompanyIdentities: Set<IdentityKey> = []
    var companyMerges: [ContactMerge] = []
    var devices: [String: DeviceRecord] = [:]
    var activities: [ActivityRecord] = []
    /// Contacts erased (`hubsignal erase`): their rows are deleted from every table at the next flush.
    var erasedContacts: Set<String> = []

    /// Follows merges to the contact that holds `id` now.
    func resolve(_ id: String) -> String {
        var current = id
        while let next = redirects[current] { current = next }
        return current
    }

    /// Follows company merges to the company that holds `id` now.
    func resolveCompany(_ id: String) -> String {
        var current = id
        while let next = companyRedirects[current] { current = next }
        return current
    }

    var hasChanges: Bool {
        !dirtyIdentities.isEmpty || !dirtyContacts.isEmpty || !dirtyCompanies.isEmpty || !merges.isEmpty
            || !devices.isEmpty || !activities.isEmpty || !dirtyCompanyIdentities.isEmpty || !companyMerges.isEmpty
            || !erasedContacts.isEmpty
    }

    mutating func clearChanges() {
        dirtyIdentities.removeAll(keepingCapacity: true)
        dirtyContacts.removeAll(keepingCapacity: true)
        dirtyCompanies.removeAll(keepingCapacity: true)
        merges.removeAll(keepingCapacity: true)
        dirtyCompanyIdentities.removeAll(keepingCapacity: true)
        companyMerges.removeAll(keepingCapacity: true)
        devices.removeAll(keepingCapacity: true)
        activities.removeAll(keepingCapacity: true)
        erasedContacts.removeAll(keepingCapacity: true)
    }

    /// How many contacts and companies the cache holds (the projector empties it above its limit).
    var cachedObjects: Int { contacts.count + companies.count }
}
