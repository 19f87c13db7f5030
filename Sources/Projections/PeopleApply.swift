import Domain
import EventStore
import Foundation
import Ingestion
import Mapping

/// Applying events to the working set. Every identity and contact an event names must be in the cache (or known
/// absent) before `apply` runs; `PeopleNeeds` lists them and the projector loads them.
extension PeopleState {
    mutating func apply(_ input: PeopleInput, event: RecordedEvent, mapping: Mapping) {
        switch input {
        case .segment(let type, let message, let keys, let traits):
            applySegment(type: type, message: message, keys: keys, traits: traits, event: event, mapping: mapping)
        case .hubSpotContact(let type, let payload):
            applyHubSpotContact(type: type, payload: payload, event: event, mapping: mapping)
        case .hubSpotAction(let type, let payload):
            let keys = hubSpotActionKeys(payload, type: type)
            guard !keys.isEmpty else { return }
            let contactID = resolveContact(keys, event: event, reason: IdentityKeys.Name.hubSpotID.rawValue)
            // An edit-tags action's tags go to the user and app its inputs name, through `onesignal_outbox`
            // (OneSignalSync+TagEdits), not into the contact's tags for every app.
            if type == .sendNotification {
                activities.append(
                    ActivityRecord(
                        position: event.position, contactID: contactID, app: payload["inputFields"]?["app"]?.stringValue,
                        notificationID: nil, activity: "requested", channel: "push", kind: type.rawValue,
                        occurredAt: event.occurredAt,
                        details: .object(["callbackId": payload["callbackId"] ?? .null, "inputFields": payload["inputFields"] ?? .null])))
            }
            touch(contactID, event: event)
        case .oneSignalMessage(_, let kind, let payload):
            applyOneSignal(kind: kind, payload: payload, event: event, mapping: mapping)
        case .contactSynced(let synced):
            guard contacts[resolve(synced.id)] != nil else { return }
            let id = resolve(synced.id)
            attach(.hubSpotID(synced.hubSpotID), to: id, event: event, reason: IdentityKeys.Name.hubSpotID.rawValue)
            let survivor = resolve(id)
            contacts[survivor]?.hubSpotContactID = synced.hubSpotID
            if let properties = synced.properties {
                contacts[survivor]?.hubSpotAcknowledged = properties
                contacts[survivor]?.hubSpotFailure = nil
            }
            for name in synced.sent { contacts[survivor]?.hubSpotDropped[name] = nil }
            contacts[survivor]?.hubSpotDropped.merge(synced.dropped) { _, new in new }
            dirtyContacts.insert(survivor)
        case .userSynced(let synced):
            let id = resolve(synced.contactID)
            guard let contact = contacts[id] else { return }
            let (app, tags) = (synced.app, synced.tags)
            contacts[id]?.oneSignalAcknowledged[app] = tags
            contacts[id]?.oneSignalFailures[app] = nil
            dirtyContacts.insert(id)
            // The OneSignal user, with its tags as last pushed.
            let oneSignalID = synced.oneSignalID.flatMap { $0.isBlank ? nil : $0 } ?? contact.oneSignalID
            let externalID = synced.externalID.isBlank ? contact.userID : synced.externalID
            if let userKey = oneSignalID ?? externalID {
                let deviceKey = "user:" + userKey
                devices["\(app)\u{0}\(deviceKey)"] = DeviceRecord(
                    app: app, deviceKey: deviceKey, contactID: id, oneSignalID: oneSignalID, externalID: externalID,
                    subscriptionID: nil, channel: nil, tags: tags, lastEventAt: event.occurredAt)
            }
        case .deliveryFailed(let destination, let contactID, let reason, let app):
            let id = resolve(contactID)
            guard contacts[id] != nil else { return }
            if destination == .hubspot {
                contacts[id]?.hubSpotFailure = reason
            } else {
                contacts[id]?.oneSignalFailures[app ?? "default"] = reason
            }
            dirtyContacts.insert(id)
        case .companyFailed(let groupID, let reason):
            guard let record = companyIdentities[.groupID(groupID)] else { return }
            let id = resolveCompany(record.companyID)
            guard companies[id] != nil else { return }
            companies[id]?.hubSpotFailure = reason
            dirtyCompanies.insert(id)
        case .associationSynced(let contactID, let groupID):
            guard let record = companyIdentities[.groupID(groupID)] else { return }
            let companyID = resolveCompany(record.companyID)
            let id = resolve(contactID)
            guard contacts[id]?.companies[companyID] != nil else { return }
            contacts[id]?.companies[companyID]?.hubSpotAssociated = true
            dirtyContacts.insert(id)
        case .companySynced(let synced):
            guard let record = companyIdentities[.groupID(synced.id)] else { return }
            let id = resolveCompany(record.companyID)
            guard companies[id] != nil else { return }
            companies[id]?.hubSpotCompanyID = synced.hubSpotID
            if let properties = synced.properties {
                companies[id]?.hubSpotAcknowledged = properties
                companies[id]?.hubSpotFailure = nil
            }
            for name in synced.sent { companies[id]?.hubSpotDropped[name] = nil }
            companies[id]?.hubSpotDropped.merge(synced.dropped) { _, new in new }
            companies[id]?.updatedPosition = event.position
            attachCompany(.hubSpotID(synced.hubSpotID), to: id, event: event)
            dirtyCompanies.insert(resolveCompany(id))
        case .erasure(let contactIDs):
            erase(Set(contactIDs.map { resolve($0) } + contactIDs))
        case .replayRequested(let replay):
            for contactID in replay.contactIDs {
                let id = resolve(contactID)
                guard contacts[id] != nil else { continue }
                if replay.destination == .hubspot {
                    contacts[id]?.hubSpotAcknowledged = nil
                    contacts[id]?.hubSpotFailure = nil
                } else if let app = replay.app {
                    contacts[id]?.oneSignalAcknowledged[app] = nil
                    contacts[id]?.oneSignalFailures[app] = nil
                } else {
                    contacts[id]?.oneSignalAcknowledged = [:]
                    contacts[id]?.oneSignalFailures = [:]
                }
                // A change of the contact: the replayed push's result events get keys of their own.
                contacts[id]?.updatedPosition = event.position
                dirtyContacts.insert(id)
            }
        case .ignored:
            break
        }
    }

    // MARK: - Segment

    private mutating func applySegment(
        type: EventType, message: [String: JSONValue], keys: [IdentityKey], traits: [String: JSONValue], event: RecordedEvent,
        mapping: Mapping
    ) {
        let contactID: String
        if let previous = previousID(message, type: type) {
            guard let userID = message["userId"]?.identifierValue else { return }
            contactID = resolveContact([.userID(userID)] + keys.filter { $0.kind != IdentityKeys.Name.userID.rawValue }, event: event, reason: IdentityKeys.Name.userID.rawValue)
            for previousKey in [IdentityKey.userID(previous), .anonymousID(previous)] {
                if let record = identities[previousKey], resolve(record.contactID) != resolve(contactID) {
                    merge(resolve(record.contactID), with: resolve(contactID), reason: "alias", event: event)
                }
            }
            // Segment's `previousId` is a previous userId or anonymousId: later calls may name it as either.
            for previousKey in [IdentityKey.userID(previous), .anonymousID(previous)] where identities[previousKey] == nil {
                attach(previousKey, to: resolve(contactID), event: event, reason: "alias")
            }
        } else {
            guard !keys.isEmpty else { return }
            contactID = resolveContact(keys, event: event, reason: nil)
        }
        let id = resolve(contactID)
        guard var contact = contacts.removeValue(forKey: id) else { return }
        if let userID = message["userId"]?.identifierValue { contact.userID = userID }
        if case .byWriteKey = mapping.oneSignal.apps,
            let writeKeyID = (try? JSONValue.parse(event.metadata.bytes))?["writeKeyID"]?.stringValue
        {
            contact.writeKeyID = writeKeyID
        }
        if !traits.isEmpty {
            // New values are a new delivery: a failure of the old ones no longer describes the contact.
            contact.hubSpotFailure = nil
            contact.oneSignalFailures = [:]
            contact.traits.merge(traits) { _, new in new }
            if let email = traits["email"]?.stringValue.flatMap(IdentityKeys.normalizedEmail) { contact.email = email }
            // A newer trait takes its tag back from a track property or a HubSpot workflow's edit.
            if !contact.oneSignalEventTags.isEmpty {
                for tag in mapping.oneSignal.tags(traits: traits).tags.keys { contact.oneSignalEventTags[tag] = nil }
            }
        }
        if type == .track, mapping.oneSignal.trackProperties != .none, let properties = message["properties"]?.objectValue {
            let tags = mapping.oneSignal.tags(traits: [:], trackProperties: properties, applyingLimit: false).tags
            for (tag, value) in tags { contact.oneSignalEventTags[tag] = value.map(JSONValue.string) ?? .null }
        }
        for change in mapping.audiences.changes(in: .object(message)) {
            var record = contact.audiences[change.audience]
                ?? AudienceRecord(
                    isMember: false, status: nil, style: change.status == nil ? "engage" : "aep", enteredAt: nil, exitedAt: nil,
                    updatedAt: event.occurredAt)
            if change.isMember && !record.isMember { record.enteredAt = event.occurredAt }
            if !change.isMember && record.isMember { record.exitedAt = event.occurredAt }
            if !change.isMember && record.exitedAt == nil { record.exitedAt = event.occurredAt }
            record.isMember = change.isMember
            record.status = change.status
            record.style = change.status == nil ? "engage" : "aep"
            record.updatedAt = event.occurredAt
            contact.audiences[change.audience] = record
        }
        if type == .group, case let keys = groupCallCompanyKeys(message, mapping: mapping), !keys.isEmpty {
            let companyID = applyGroup(keys: keys, traits: message["traits"]?.objectValue ?? [:], event: event)
            for change in mapping.audiences.accountChanges(in: .object(message)) {
                companies[companyID]?.accountAudiences[change.audience] = change.isMember
            }
            if mapping.companies.associateContact {
                let link = contact.companies[companyID]
                contact.companies[companyID] = CompanyLink(
                    firstSeenAt: link.map { min($0.firstSeenAt, event.occurredAt) } ?? event.occurredAt,
                    lastSeenAt: link.map { max($0.lastSeenAt, event.occurredAt) } ?? event.occurredAt,
                    hubSpotAssociated: link?.hubSpotAssociated ?? false)
            }
        }
        contact.lastSeenAt = max(contact.lastSeenAt, event.occurredAt)
        contact.firstSeenAt = min(contact.firstSeenAt, event.occurredAt)
        contact.updatedPosition = event.position
        contacts[id] = contact
        dirtyContacts.insert(id)
    }

    /// Applies a group call's traits to the company its identities name (created or merged as needed); returns its id.
    private mutating func applyGroup(keys: [IdentityKey], traits: [String: JSONValue], event: RecordedEvent) -> String {
        let id = resolveCompanyKeys(keys, event: event)
        guard var company = companies.removeValue(forKey: id) else { return id }
        company.traits.merge(traits) { _, new in new }
        // New values are a new delivery: a failure of the old ones no longer describes the company.
        if !traits.isEmpty { company.hubSpotFailure = nil }
        if let name = company.traits["name"]?.stringValue { company.name = name }
        if let domain = keys.first(where: { $0.kind == "domain" })?.value { company.domain = domain }
        company.lastSeenAt = max(company.lastSeenAt, event.occurredAt)
        company.updatedPosition = event.position
        companies[id] = company
        dirtyCompanies.insert(id)
        return id
    }

    /// Finds or creates the company that `keys` identify; companies named by several keys are merged into the one
    /// created first (a domain seen under a second group id, say).
    private mutating func resolveCompanyKeys(_ keys: [IdentityKey], event: RecordedEvent) -> String {
        var found: [(key: IdentityKey, companyID: String)] = []
        for key in keys {
            if let record = companyIdentities[key] { found.append((key, resolveCompany(record.companyID))) }
        }
        let survivor: String
        if let first = found.first {
            var ids: [String] = []
            for entry in found where !ids.contains(entry.companyID) { ids.append(entry.companyID) }
            survivor = ids.min { (companies[$0]?.createdPosition ?? 0) < (companies[$1]?.createdPosition ?? 0) } ?? first.companyID
            for other in ids where other != survivor {
                let linking = found.first { $0.companyID != first.companyID }?.key.kind ?? first.key.kind
                mergeCompany(other, into: survivor, reason: linking, event: event)
            }
        } else {
            survivor = "co_\(event.position)"
            if companies[survivor] == nil {
                companies[survivor] = CompanyRecord(
                    id: survivor, groupID: keys.first { $0.kind == IdentityKeys.Name.groupID.rawValue }?.value ?? "", domain: nil, name: nil, traits: [:],
                    hubSpotProperties: [:], hubSpotCompanyID: nil, firstSeenAt: event.occurredAt, lastSeenAt: event.occurredAt,
                    createdPosition: event.position, updatedPosition: event.position)
                dirtyCompanies.insert(survivor)
            }
        }
        for key in keys { attachCompany(key, to: survivor, event: event) }
        return survivor
    }

    /// Points a company identity at `companyID`.
    mutating func attachCompany(_ key: IdentityKey, to companyID: String, event: RecordedEvent) {
        let target = resolveCompany(companyID)
        if let record = companyIdentities[key], resolveCompany(record.companyID) == target { return }
        if companyIdentities[key] != nil {
            companyIdentities[key]?.companyID = target
        } else {
            companyIdentities[key] = CompanyIdentityRecord(companyID: target, firstPosition: event.position, firstSeenAt: event.occurredAt)
            absentCompanyIdentities.remove(key)
        }
        dirtyCompanyIdentities.insert(key)
    }

    /// Merges company `from` into `into` (the older one): traits (the newer side wins), HubSpot id, first/last seen.
    private mutating func mergeCompany(_ from: String, into: String, reason: String, event: RecordedEvent) {
        guard from != into, let merged = companies.removeValue(forKey: from), var survivor = companies[into] else { return }
        let mergedIsNewer = merged.updatedPosition > survivor.updatedPosition
        survivor.traits.merge(merged.traits) { old, new in mergedIsNewer ? new : old }
        survivor.hubSpotCompanyID = survivor.hubSpotCompanyID ?? merged.hubSpotCompanyID
        survivor.hubSpotAcknowledged = survivor.hubSpotAcknowledged ?? merged.hubSpotAcknowledged
        survivor.domain = survivor.domain ?? merged.domain
        survivor.name = survivor.name ?? merged.name
        survivor.firstSeenAt = min(survivor.firstSeenAt, merged.firstSeenAt)
        survivor.lastSeenAt = max(survivor.lastSeenAt, merged.lastSeenAt)
        survivor.updatedPosition = event.position
        companies[into] = survivor
        dirtyCompanies.remove(from)
        dirtyCompanies.insert(into)
        companyRedirects[from] = into
        companyMerges.append(ContactMerge(from: from, into: into, reason: reason, position: event.position, at: event.occurredAt))
    }

    // MARK: - HubSpot and OneSignal

    private mutating func applyHubSpotContact(
        type: EventType, payload: [String: JSONValue], event: RecordedEvent, mapping: Mapping
    ) {
        let keys = hubSpotContactKeys(payload, type: type, mapping: mapping)
        guard !keys.isEmpty else { return }
        let reason = type == .hubSpotContactMerge ? "hubspot_merge" : nil
        // Two statements: `resolve(resolveContact(…))` would hold a copy of `self` across the mutation, and copy every table.
        let resolved = resolveContact(keys, event: event, reason: reason)
        let id = resolve(resolved)
        guard var contact = contacts.removeValue(forKey: id) else { return }
        switch type {
        case .hubSpotContactPropertyChange:
            // HubSignal's own write coming back (possibly after a change made in HubSpot meanwhile, or before HubSignal
            // recorded HubSpot's acknowledgement) is not a value HubSpot chose: it replaces none that HubSpot did.
            if let name = payload["propertyName"]?.stringValue,
                !contact.isEchoOfHubSignal(property: name, value: payload["propertyValue"] ?? .null, mapping: mapping)
            {
                contact.hubSpotValues[name] = payload["propertyValue"] ?? .null
                if name == "email", let email = payload["propertyValue"]?.stringValue.flatMap(IdentityKeys.normalizedEmail) {
                    contact.email = contact.email ?? email
                }
            }
        case .hubSpotContactDeletion:
            if contact.hubSpotContactID == payload["objectId"]?.identifierValue { contact.hubSpotContactID = nil }
        default:
            break
        }
        if type != .hubSpotContactDeletion, contact.hubSpotContactID == nil,
            let objectID = payload["objectId"]?.identifierValue ?? payload["primaryObjectId"]?.identifierValue
        {
            contact.hubSpotContactID = objectID
        }
        contact.lastSeenAt = max(contact.lastSeenAt, event.occurredAt)
        contact.updatedPosition = event.position
        contacts[id] = contact
        dirtyContacts.insert(id)
    }

    private mutating func applyOneSignal(kind: String, payload: [String: JSONValue], event: RecordedEvent, mapping: Mapping) {
        let keys = resolvingOneSignalKeys(oneSignalKeys(payload, type: event.type, mapping: mapping), mapping: mapping)
        // "message.push.clicked" → channel push, activity clicked.
        let parts = kind.split(separator: ".").map(String.init)
        let channel = parts.count >= 3 ? parts[1] : nil
        let activity = parts.last ?? kind
        var contactID: String?
        if !keys.isEmpty {
            let resolved = resolveContact(keys, event: event, reason: nil)
            contactID = resolve(resolved)
        }
        // Attributed to the configured app with that id (its name), else the id itself.
        let appID = oneSignalField(payload, "app_id", "event.app_id")
        let app = appID.flatMap { mapping.oneSignalApp(withID: $0)?.name } ?? appID ?? mapping.oneSignalApps[0].name
        let notificationID = oneSignalField(payload, "message_id", "message.id") ?? oneSignalField(payload, "notification_id", "event.notification_id")
        activities.append(
            ActivityRecord(
                position: event.position, contactID: contactID, app: app, notificationID: notificationID, activity: activity,
                channel: channel, kind: kind, occurredAt: event.occurredAt, details: .object(payload)))
        guard let contactID else { return }
        let oneSignalID = IdentityKeys.oneSignal.first(.oneSignalID, in: payload, type: event.type)
        let subscriptionID = oneSignalField(payload, "subscription_id", "event.subscription_id")
        let externalID = IdentityKeys.oneSignal.first(.externalID, in: payload, type: event.type)
        if oneSignalID != nil || subscriptionID != nil {
            let deviceKey = subscriptionID ?? "user:\(oneSignalID!)"
            devices["\(app)\u{0}\(deviceKey)"] = DeviceRecord(
                app: app, deviceKey: deviceKey, contactID: contactID, oneSignalID: oneSignalID, externalID: externalID,
                subscriptionID: subscriptionID, channel: channel, tags: devices["\(app)\u{0}\(deviceKey)"]?.tags,
                lastEventAt: event.occurredAt)
        }
        if var contact = contacts.removeValue(forKey: contactID) {
            if let oneSignalID { contact.oneSignalID = oneSignalID }
            for (name, value) in mapping.timeline.activityProperties(kind: activity, channel: channel ?? "push", at: event.occurredAt) {
                // Times only move forward (events can arrive out of order); the subscription follows the latest event.
                if name.hasSuffix("_at"), let known = contact.oneSignalActivity[name]?.stringValue, let new = value.stringValue, known >= new {
                    continue
                }
                contact.oneSignalActivity[name] = value
            }
            contact.updatedPosition = event.position
            contacts[contactID] = contact
            dirtyContacts.insert(contactID)
        }
    }

    private mutating func touch(_ contactID: String, event: RecordedEvent) {
        let id = resolve(contactID)
        guard var contact = contacts.removeValue(forKey: id) else { return }
        contact.lastSeenAt = max(contact.lastSeenAt, event.occurredAt)
        contact.updatedPosition = event.position
        contacts[id] = contact
        dirtyContacts.insert(id)
    }

    // MARK: - Identity resolution

    /// Finds or creates the contact that `keys` (most decisive first) identify, merging the contacts they name:
    /// the contact created first survives. An anonymous id that already belongs to someone identified as another user
    /// moves to this contact instead (a shared device), without a merge.
    mutating func resolveContact(_ keys: [IdentityKey], event: RecordedEvent, reason: String?) -> String {
        let messageUserID = keys.first { $0.kind == IdentityKeys.Name.userID.rawValue }?.value
        var found: [(key: IdentityKey, contactID: String)] = []
        for key in keys {
            if let record = identities[key] { found.append((key, resolve(record.contactID))) }
        }
        // The common case: every known identity points at the same contact (and it is not a shared device).
        if let first = found.first, found.allSatisfy({ $0.contactID == first.contactID }) {
            let onlyAnonymously = found.allSatisfy { $0.key.kind == IdentityKeys.Name.anonymousID.rawValue }
            // Looked up only when it can matter: reading a contact out of the dictionary copies the whole record.
            let sharedDevice = onlyAnonymously && messageUserID != nil && {
                let otherUser = contacts[first.contactID]?.userID
                return otherUser != nil && otherUser != messageUserID
            }()
            if !sharedDevice {
                if found.count < keys.count {
                    for key in keys where identities[key] == nil {
                        attach(key, to: first.contactID, event: event, reason: reason ?? key.kind)
                    }
                }
                return first.contactID
            }
        }
        var mergeSet: [String: IdentityKey] = [:]
        var order: [String] = []
        for (key, contactID) in found {
            if mergeSet[contactID] != nil { continue }
            let foundOnlyAnonymously = found.filter { $0.contactID == contactID }.allSatisfy { $0.key.kind == IdentityKeys.Name.anonymousID.rawValue }
            if foundOnlyAnonymously, let messageUserID, let other = contacts[contactID]?.userID, other != messageUserID {
                continue
            }
            mergeSet[contactID] = key
            order.append(contactID)
        }
        let survivor: String
        if order.isEmpty {
            survivor = "c_\(event.position)"
            if contacts[survivor] == nil {
                contacts[survivor] = ContactRecord(
                    id: survivor, userID: nil, email: nil, traits: [:], hubSpotValues: [:], hubSpotContactID: nil, oneSignalID: nil,
                    hubSpotAcknowledged: nil, oneSignalAcknowledged: [:], hubSpotFailure: nil, oneSignalFailures: [:],
                    firstSeenAt: event.occurredAt, lastSeenAt: event.occurredAt, createdAt: event.cursor,
                    updatedPosition: event.position, audiences: [:], companies: [:])
                dirtyContacts.insert(survivor)
            }
        } else {
            survivor = order.min { lhs, rhs in
                (contacts[lhs]?.createdAt ?? .origin) < (contacts[rhs]?.createdAt ?? .origin)
            }!
            // The reason of a merge is the identity that tied the less decisively identified contact to this message
            // (with a userId and an email naming two contacts, the email).
            for other in order where other != survivor {
                let linking = other == order[0] ? mergeSet[survivor]! : mergeSet[other]!
                merge(other, with: survivor, reason: reason ?? linking.kind, event: event)
            }
        }
        for key in keys { attach(key, to: survivor, event: event, reason: reason ?? key.kind) }
        return survivor
    }

    /// Points `key` at `contactID` (moving it from another contact when it pointed elsewhere).
    mutating func attach(_ key: IdentityKey, to contactID: String, event: RecordedEvent, reason: String) {
        let target = resolve(contactID)
        if var record = identities[key] {
            if resolve(record.contactID) == target { return }
            record.contactID = target
            identities[key] = record
        } else {
            identities[key] = IdentityRecord(contactID: target, firstPosition: event.position, firstSeenAt: event.occurredAt)
            absentIdentities.remove(key)
        }
        dirtyIdentities.insert(key)
    }

    /// Merges two contacts; the one created first survives and takes the other's identities, traits (the more recently
    /// updated side wins a conflict), audiences and companies.
    mutating func merge(_ first: String, with second: String, reason: String, event: RecordedEvent) {
        guard first != second, let a = contacts[first], let b = contacts[second] else { return }
        var (survivor, merged) = a.isOlder(than: b) ? (a, b) : (b, a)
        let mergedIsNewer = merged.updatedPosition > survivor.updatedPosition
        survivor.traits.merge(merged.traits) { old, new in mergedIsNewer ? new : old }
        survivor.hubSpotValues.merge(merged.hubSpotValues) { old, new in mergedIsNewer ? new : old }
        if survivor.userID == nil || (mergedIsNewer && merged.userID != nil) { survivor.userID = merged.userID ?? survivor.userID }
        if survivor.email == nil || (mergedIsNewer && merged.email != nil) { survivor.email = merged.email ?? survivor.email }
        survivor.hubSpotContactID = survivor.hubSpotContactID ?? merged.hubSpotContactID
        survivor.oneSignalID = survivor.oneSignalID ?? merged.oneSignalID
        survivor.hubSpotAcknowledged = survivor.hubSpotAcknowledged ?? merged.hubSpotAcknowledged
        survivor.oneSignalAcknowledged.merge(merged.oneSignalAcknowledged) { old, _ in old }
        survivor.oneSignalEventTags.merge(merged.oneSignalEventTags) { old, new in mergedIsNewer ? new : old }
        survivor.oneSignalActivity.merge(merged.oneSignalActivity) { old, new in mergedIsNewer ? new : old }
        survivor.firstSeenAt = min(survivor.firstSeenAt, merged.firstSeenAt)
        survivor.lastSeenAt = max(survivor.lastSeenAt, merged.lastSeenAt)
        survivor.updatedPosition = event.position
        for (audience, record) in merged.audiences {
            if let existing = survivor.audiences[audience], existing.updatedAt >= record.updatedAt { continue }
            survivor.audiences[audience] = record
        }
        for (companyID, link) in merged.companies {
            let existing = survivor.companies[companyID]
            survivor.companies[companyID] = CompanyLink(
                firstSeenAt: min(existing?.firstSeenAt ?? link.firstSeenAt, link.firstSeenAt),
                lastSeenAt: max(existing?.lastSeenAt ?? link.lastSeenAt, link.lastSeenAt),
                hubSpotAssociated: (existing?.hubSpotAssociated ?? false) || link.hubSpotAssociated)
        }
        contacts[survivor.id] = survivor
        contacts[merged.id] = nil
        dirtyContacts.remove(merged.id)
        dirtyContacts.insert(survivor.id)
        // Identities, devices and activities that still name the merged contact are followed through `redirects`
        // (`resolve`) when read and when written, so nothing needs rewriting here.
        redirects[merged.id] = survivor.id
        merges.append(ContactMerge(from: merged.id, into: survivor.id, reason: reason, position: event.position, at: event.occurredAt))
    }
}

extension PeopleState {
    /// Removes contacts from the working set and the pending changes, and queues their rows for deletion
    /// (`hubsignal erase`): identities, merges, devices and activities that point at them go too.
    mutating func erase(_ ids: Set<String>) {
        guard !ids.isEmpty else { return }
        for id in ids {
            contacts[id] = nil
            dirtyContacts.remove(id)
        }
        for (key, record) in identities where ids.contains(record.contactID) || ids.contains(resolve(record.contactID)) {
            identities[key] = nil
            dirtyIdentities.remove(key)
            absentIdentities.insert(key)
        }
        for (merged, into) in redirects where ids.contains(merged) || ids.contains(into) { redirects[merged] = nil }
        merges.removeAll { ids.contains($0.from) || ids.contains($0.into) }
        devices = devices.filter { !ids.contains($0.value.contactID) }
        activities.removeAll { $0.contactID.map(ids.contains) ?? false }
        erasedContacts.formUnion(ids)
    }
}

extension ContactRecord {
    /// Whether a HubSpot webhook's value for `property` is HubSignal's own write coming back: the value HubSpot last
    /// acknowledged from HubSignal, or the one HubSignal wants there now (pushed, or about to be, when the webhook
    /// overtakes the push's result event). Compared as text, as both sides reach HubSpot.
    func isEchoOfHubSignal(property: String, value: JSONValue, mapping: Mapping) -> Bool {
        let text = value.scalarText ?? ""
        if let pushed = hubSpotAcknowledged?[property], (pushed.scalarText ?? "") == text { return true }
        if let desired = PeopleTables.hubSpotProperties(of: self, mapping: mapping)[property], (desired.scalarText ?? "") == text {
            return true
        }
        return false
    }
}
