import Domain
import EventStore
import Foundation
import HubSpot
import Ingestion
import Logging
import Mapping
import Metrics
import PQ
import Projections
import ServiceLifecycle

/// Pushes the read models to HubSpot: each round upserts companies, contacts, contact → company associations and the
/// queued behavioral events, notes and custom object records, sending only what HubSpot does not hold yet.
///
/// Every outcome is recorded as a result event (`EventType/hubSpotContactSynced`, `EventType/hubSpotDeliveryFailed`,
/// …) in the transaction that records it in the ledger. Failures that can pass are retried with ``RetryPolicy``;
/// refusals become dead letters (see docs/hubspot-sync.md).
public struct HubSpotSync: Service, ClaimingWorker {
    /// How the worker batches, coalesces and retries.
    public struct Configuration: Sendable {
        /// Contacts per upsert call (HubSpot's batch limit: 100).
        public var batchSize: Int = 100
        /// A contact is pushed once it has not changed for this long (coalescing; default 1 s).
        public var linger: Duration = .seconds(1)
        /// How long a claim holds contacts before another worker may take them, when the worker is hung but still
        /// connected (the claims of a worker whose ``holder`` session ended are taken over at once; default 2 minutes).
        public var lease: Duration = .seconds(120)
        /// How often to look for work when there was none (default 500 ms).
        public var pollInterval: Duration = .milliseconds(500)
        /// Backoff and dead letters.
        public var retry = RetryPolicy()
        /// This worker's name in the ledger (leases) and in `hubsignal status`.
        public var owner: String
        /// The HubSpot account id (`HUBSPOT_PORTAL_ID`): behavioral event names are `pe<portal id>_…`. Without it,
        /// no behavioral events are sent.
        public var portalID: String?
        /// Ties this worker's claims to the life of its process (see ``ClaimHolder``), run by the caller. `nil`
        /// (default): `run()` holds its own, on one more connection; `runOnce()` ties claims to the lease only.
        public var holder: ClaimHolder?

        public init(owner: String) {
            self.owner = owner
        }
    }

    public let configuration: Configuration
    let client: HubSpotClient
    let ledger: DeliveryLedger
    let store: EventStore
    let database: PQClient
    let mapping: Mapping
    private let catalog: HubSpotPropertyCatalog
    let companyCatalog: HubSpotPropertyCatalog
    let logger: Logger
    /// Fills `hubspot_event_outbox` from the log when the mapping sends behavioral events (and a portal id is known).
    let outbox: Subscription?
    /// Association type ids by label, for custom object records (`HubSpotSync+CustomObjects.swift`).
    let associationLabels = AssociationLabelCache()
    /// The behavioral event definitions known and created (`HubSpotSync+Events.swift`); `nil` without a portal id.
    let eventDefinitions: HubSpotEventDefinitionCatalog?
    /// The ``ClaimHolder`` token of the round in progress, carried by its claims (`nil`: the lease only).
    var claimToken: Int64?

    public init(
        configuration: Configuration, client: HubSpotClient, database: PQClient, store: EventStore, mapping: Mapping,
        watcher: LogWatcher = LogWatcher(), logger: Logger
    ) {
        self.configuration = configuration
        self.client = client
        self.ledger = DeliveryLedger(client: database)
        self.database = database
        self.store = store
        self.mapping = mapping
        let catalogMetadata: [String: JSONValue] = ["worker": .string(configuration.owner), "mappingVersion": .string(mapping.version)]
        self.catalog = HubSpotPropertyCatalog(
            client: client, objectType: "contacts", groupName: "contactinformation", store: store, metadata: catalogMetadata,
            logger: logger)
        self.companyCatalog = HubSpotPropertyCatalog(
            client: client, objectType: "companies", groupName: "companyinformation", store: store, metadata: catalogMetadata,
            logger: logger)
        self.logger = logger
        self.eventDefinitions = configuration.portalID.map { portalID in
            HubSpotEventDefinitionCatalog(
                client: client, store: store, portalID: portalID,
                metadata: ["worker": .string(configuration.owner), "mappingVersion": .string(mapping.version)], logger: logger)
        }
        let outbox = HubSpotEventOutbox(mapping: mapping, portalID: configuration.portalID)
        if outbox.sendsBehavioralEvents && configuration.portalID == nil {
            logger.warning("the mapping sends behavioral events, but HUBSPOT_PORTAL_ID is not set: none are sent")
        }
        self.outbox = outbox.isEnabled ? outbox.makeSubscription(store: store, watcher: watcher, logger: logger) : nil
    }

    public func run() async throws {
        logger.info("HubSpot sync started", metadata: ["worker": "\(configuration.owner)", "rate_limit": "\(client.rateLimiter.configuredLimit)"])
        let owned = configuration.holder == nil ? ClaimHolder(connectionString: database.configuration.connectionString, logger: logger) : nil
        let holder = configuration.holder ?? owned
        // The outbox follows the log on its own (woken by NOTIFY); the rounds send what it queued.
        try await SyncRounds.run(
            name: "HubSpot sync", outbox: outbox, holder: owned, pollInterval: configuration.pollInterval, logger: logger,
            round: { try await runOnce(steppingOutbox: false, holder: holder) }, record: { await record(error: $0) })
        logger.info("HubSpot sync stopped", metadata: ["worker": "\(configuration.owner)"])
    }

    /// One round: a batch of companies, contacts, associations and behavioral events. Returns how many objects were claimed
    /// (0: no work).
    ///
    /// - Parameter steppingOutbox: whether to move the outbox subscription one batch first (`run()` runs it on its own).
    @discardableResult
    public func runOnce(steppingOutbox: Bool = true) async throws -> Int {
        try await runOnce(steppingOutbox: steppingOutbox, holder: configuration.holder)
    }

    func claimingRound(steppingOutbox: Bool) async throws -> Int {
        var claimed = 0
        if steppingOutbox, let outbox { _ = try await outbox.processNextBatch() }
        if mapping.companies.enabled { claimed += try await pushCompanies() }
        claimed += try await pushContacts()
        claimed += try await pushAssociations()
        if outbox != nil { claimed += try await pushEvents() }
        return claimed
    }

    /// Claims a batch of contacts, pushes it and records the outcome. Returns how many were claimed.
    func pushContacts() async throws -> Int {
        let claimed = try await ledger.claimHubSpotContacts(
            limit: configuration.batchSize, linger: configuration.linger, lease: configuration.lease, owner: configuration.owner, holder: claimToken)
        guard !claimed.isEmpty else { return 0 }
        var round = Round()
        await push(claimed, into: &round)
        try await ledger.finish(
            kind: .contact, outcomes: round.outcomes, events: round.events, owner: configuration.owner, holder: claimToken,
            store: store)
        if let error = round.lastError { await record(error: error) } else { await record(error: nil) }
        return claimed.count
    }

    // MARK: - Pushing objects

    /// What one phase decided: an outcome per claimed object and the events recording it.
    struct Round {
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        var lastError: String?
    }

    /// The object type a push writes: contacts by email, companies by the group-id property.
    enum Target: Sendable {
        case contacts
        case companies(idProperty: String)

        var objectType: String {
            switch self {
            case .contacts: return "contacts"
            case .companies: return "companies"
            }
        }

        var idProperty: String {
            switch self {
            case .contacts: return "email"
            case .companies(let idProperty): return idProperty
            }
        }
    }

    /// One object's upsert: the changed properties (`""` clears one) and what the result events need.
    struct Push {
        /// The ledger key and `objectWriteTraceId`: the contact id or the company id.
        var key: String
        var target: Target
        /// The value of the target's id property (the email, the group id).
        var id: String
        /// Whom result events name: the contact id or the company's group id.
        var subject: HubSpotDeliveryFailed.Subject
        var properties: [String: JSONValue]
        var acknowledged: [String: JSONValue]
        var dropped: [String: String] = [:]
        var desiredHash: String
        var updatedPosition: Int64
        var attempts: Int
    }

    func push(_ claimed: [DeliveryLedger.ClaimedContact], into round: inout Round) async {
        var pushes: [Push] = []
        var emails: Set<String> = []
        // Erased since they were claimed (`hubsignal erase`, a privacy deletion deletes their sync_status rows): not
        // pushed. If the check itself fails, they are pushed as before (recording the outcome needs the database anyway).
        let erased = (try? await ledger.erasedContacts(claimed.map(\.contactID), destination: .hubspot)) ?? []
        for contact in claimed {
            if erased.contains(contact.contactID) {
                round.outcomes[contact.contactID] = .done(desiredHash: contact.desiredHash)
                continue
            }
            guard let email = contact.email?.lowercased() else {
                // Lost its email since it was claimed (a rebuild): nothing to push until it has one.
                round.outcomes[contact.contactID] = .done(desiredHash: contact.desiredHash)
                continue
            }
            // HubSpot refuses a batch naming one email twice: the second waits for the next round.
            guard emails.insert(email).inserted else {
                round.outcomes[contact.contactID] = .postpone(after: .seconds(1))
                continue
            }
            pushes.append(
                Push(
                    key: contact.contactID, target: .contacts, id: email, subject: .contact(id: contact.contactID),
                    properties: Self.changes(desired: contact.desired, acknowledged: contact.acknowledged, attempts: contact.attempts),
                    acknowledged: contact.acknowledged, desiredHash: contact.desiredHash,
                    updatedPosition: contact.updatedPosition, attempts: contact.attempts))
        }
        guard !mapping.contacts.matchBy.isEmpty else {
            await upsert(pushes, into: &round)
            return
        }
        // A contact HubSignal never synced may be in HubSpot under another email (or none): found by one of the
        // mapping's unique properties (`contacts.match_by`), it is updated by its id, email included, instead of a
        // twin being created by the upsert by email.
        var upserts: [Push] = []
        for push in pushes {
            guard let contact = claimed.first(where: { $0.contactID == push.key }), contact.hubSpotContactID == nil,
                contact.acknowledged.isEmpty
            else {
                upserts.append(push)
                continue
            }
            do {
                guard let found = try await findContact(matching: contact.desired) else {
                    upserts.append(push)
                    continue
                }
                var prepared = [push]
                try await prepareProperties(&prepared)
                var properties = prepared[0].properties.mapValues(Self.hubSpotString)
                properties["email"] = push.id
                _ = try await client.updateObject(ofType: "contacts", id: found.id, properties: properties)
                synced(prepared[0], hubSpotID: found.id, created: false, into: &round)
            } catch {
                fail([push], with: error, into: &round)
            }
        }
        await upsert(upserts, into: &round)
    }

    /// The HubSpot contact holding one of the desired values of the mapping's `contacts.match_by` properties, tried in
    /// order; properties the account does not have are skipped.
    private func findContact(matching desired: [String: JSONValue]) async throws -> HubSpotObject? {
        for name in mapping.contacts.matchBy {
            guard let value = desired[name]?.scalarText, !value.trimmingCharacters(in: .whitespaces).isEmpty,
                try await catalog.definition(of: name) != nil
            else { continue }
            if let found = try await client.searchObjects(ofType: "contacts", equal: [name: value], limit: 1).first { return found }
        }
        return nil
    }

    /// The desired values HubSpot does not hold yet; after a failed or interrupted attempt (`attempts` > 0), whose
    /// outcome is unknown, and in the confirmation push that follows (`-1`), every desired value (an earlier attempt
    /// may have landed values since changed back).
    static func changes(desired: [String: JSONValue], acknowledged: [String: JSONValue], attempts: Int = 0) -> [String: JSONValue] {
        attempts != 0 ? desired : desired.filter { name, value in (acknowledged[name] ?? .null) != value }
    }

    /// Prepares the properties of `pushes` (creating or dropping unknown ones) and sends them.
    func upsert(_ pushes: [Push], into round: inout Round) async {
        guard !pushes.isEmpty else { return }
        var prepared = pushes
        do {
            try await prepareProperties(&prepared)
        } catch {
            fail(pushes, with: error, into: &round)
            return
        }
        await send(prepared, into: &round, propertyRefreshes: 1)
    }

    /// Sends pushes in one call; splits on a whole-batch refusal; retries once after learning of missing properties.
    private func send(_ pushes: [Push], into round: inout Round, propertyRefreshes: Int) async {
        guard let target = pushes.first?.target else { return }
        // The id property is written too, so that it comes back in each result's properties: HubSpot answers in no
        // promised order and need not echo objectWriteTraceId (docs/hubspot-contract.md, "Upsert attribution").
        let inputs = pushes.map { push in
            var properties = push.properties.mapValues(Self.hubSpotString)
            properties[target.idProperty] = push.id
            return HubSpotUpsertInput(id: push.id, idProperty: target.idProperty, properties: properties, objectWriteTraceId: push.key)
        }
        do {
            let result = try await client.upsert(inputs, objectType: target.objectType)
            let followUps = record(result, for: pushes, into: &round)
            for (push, object) in followUps.backwards { await settleLifecycleStage(push, answer: object, into: &round) }
            // Inputs refused for some values only: sent again without them (each resend has fewer properties).
            for push in followUps.resend { await send([push], into: &round, propertyRefreshes: propertyRefreshes) }
            // Inputs HubSpot neither wrote nor explained: each alone, so that its own answer says what is wrong.
            let unanswered = pushes.filter { round.outcomes[$0.key] == nil }
            if pushes.count == 1, let push = unanswered.first {
                dead(push, reason: "HubSpot answered without a result for this object", into: &round)
            } else {
                for push in unanswered { await send([push], into: &round, propertyRefreshes: propertyRefreshes) }
            }
        } catch let error as HubSpotError where error.code == .validation && !error.missingProperties.isEmpty && propertyRefreshes > 0 {
            // Our list of properties was stale: read it again, create or drop, and send once more.
            await catalog(for: target).invalidate()
            var again = pushes
            do {
                try await prepareProperties(&again, alsoMissing: Set(error.missingProperties))
                await send(again, into: &round, propertyRefreshes: propertyRefreshes - 1)
            } catch {
                fail(pushes, with: error, into: &round)
            }
        } catch let error as HubSpotError
            where error.code == .validation && pushes.count == 1 && !Self.refusedValues(error.propertyErrors, of: pushes[0]).isEmpty
        {
            // HubSpot refused some values of this object: the others are sent, the refused ones reported as dropped.
            var again = pushes[0]
            for (name, reason) in Self.refusedValues(error.propertyErrors, of: again) {
                again.properties[name] = nil
                again.dropped[name] = reason
            }
            await send([again], into: &round, propertyRefreshes: propertyRefreshes)
        } catch let error as HubSpotError where error.code == .validation || error.code == .notFound || error.code == .conflict {
            if pushes.count > 1 {
                let middle = pushes.count / 2
                await send(Array(pushes[..<middle]), into: &round, propertyRefreshes: propertyRefreshes)
                await send(Array(pushes[middle...]), into: &round, propertyRefreshes: propertyRefreshes)
            } else {
                dead(pushes[0], reason: error.reason, into: &round)
            }
        } catch {
            fail(pushes, with: error, into: &round)
        }
    }

    private func catalog(for target: Target) -> HubSpotPropertyCatalog {
        switch target {
        case .contacts: return catalog
        case .companies: return companyCatalog
        }
    }

    /// Finds properties HubSpot lacks among the pushes; creates those the mapping asks for, drops the others.
    ///
    /// Contacts: explicit rules (with their type), audience properties, and every property with
    /// `unknown_traits: create`. Companies: the group-id property (created with unique values, so it can key upserts),
    /// company rules and account audience properties. Then leaves out the values the account's definitions refuse.
    func prepareProperties(_ pushes: inout [Push], alsoMissing: Set<String> = []) async throws {
        guard let target = pushes.first?.target else { return }
        let catalog = catalog(for: target)
        let names = Set(pushes.flatMap(\.properties.keys)).union(target.idProperty == "email" ? [] : [target.idProperty])
        let missing = try await catalog.missing(in: names).union(alsoMissing.intersection(names))
        if !missing.isEmpty { try await createOrDrop(missing, in: &pushes, target: target, catalog: catalog) }
        // Values the account's definition refuses (a number property given text, an unknown option, …): left out and
        // reported, so that the object's other values still go.
        for index in pushes.indices {
            for (name, value) in pushes[index].properties where name != target.idProperty {
                guard let definition = try await catalog.definition(of: name),
                    let problem = HubSpotPropertyCatalog.problem(with: Self.hubSpotString(value), for: definition)
                else { continue }
                pushes[index].properties[name] = nil
                pushes[index].dropped[name] = problem
            }
        }
    }

    /// Creates the missing properties the mapping asks for and drops, with their reason, the values of the others.
    private func createOrDrop(
        _ missing: Set<String>, in pushes: inout [Push], target: Target, catalog: HubSpotPropertyCatalog
    ) async throws {
        var types: [String: String] = [:]
        switch target {
        case .contacts:
            for rule in mapping.contacts.properties.values { types[rule.property] = rule.type.rawValue }
            let audienceType = mapping.audiences.hubSpotType == .bool ? "bool" : "string"
            for name in try await audienceProperties(of: pushes.map(\.key)) { types[name] = audienceType }
            for name in missing where types[name] == nil {
                if let type = TimelineRules.activityPropertyType(name), mapping.timeline.properties { types[name] = type }
            }
            if mapping.contacts.unknownTraits == .create {
                for name in missing where types[name] == nil { types[name] = "string" }
            }
        case .companies(let idProperty):
            let audienceType = mapping.audiences.hubSpotType == .bool ? "bool" : "string"
            for name in try await companyAudienceProperties(of: pushes.map(\.key)) { types[name] = audienceType }
            for rule in mapping.companies.properties.values { types[rule.property] = rule.type.rawValue }
            if missing.contains(idProperty) { try await catalog.create(idProperty, type: "string", unique: true) }
        }
        var droppedReasons: [String: String] = [:]
        for name in missing.sorted() where name != target.idProperty || target.idProperty == "email" {
            if let type = types[name] {
                try await catalog.create(name, type: type)
            } else if case .contacts = target, mapping.contacts.unknownTraits == .existing {
                droppedReasons[name] =
                    "the property does not exist in HubSpot (unknown_traits: existing sends a trait without a rule only to an existing property)"
            } else {
                droppedReasons[name] = "the property does not exist in HubSpot and the mapping does not create it"
            }
        }
        guard !droppedReasons.isEmpty else { return }
        for index in pushes.indices {
            for (name, reason) in droppedReasons where pushes[index].properties[name] != nil {
                pushes[index].properties[name] = nil
                pushes[index].dropped[name] = reason
            }
        }
    }

    /// The HubSpot properties of the audiences these contacts were ever in (created by HubSignal on first use).
    private func audienceProperties(of contactIDs: [String]) async throws -> Set<String> {
        let rows = try await database.query(
            "SELECT DISTINCT audience FROM \(table: .audienceMemberships) WHERE contact_id = ANY(\(contactIDs)::text[])",
            name: "delivery.audiences")
        return Set(try rows.map { mapping.audiences.hubSpotProperty(forAudience: try $0.decode(String.self, at: 0)) })
    }

    /// Turns an answer into outcomes: written inputs are synced; inputs named by a per-input error are dead letters.
    ///
    /// A result is attributed by its id property's value (written in every input, so HubSpot returns it), else by an
    /// echoed `objectWriteTraceId`, else, for a one-input batch with one result, to that input; never by position.
    ///
    /// Returns what needs another call: objects whose answer holds a later lifecycle stage than the one sent
    /// (`backwards`), and objects refused for some values only, without those values (`resend`).
    private func record(
        _ result: HubSpotBatchResult, for pushes: [Push], into round: inout Round
    ) -> (backwards: [(Push, HubSpotObject)], resend: [Push]) {
        var backwards: [(Push, HubSpotObject)] = []
        var resend: [Push] = []
        guard let target = pushes.first?.target else { return ([], []) }
        var byKey: [String: Push] = [:]
        var byID: [String: Push] = [:]
        for push in pushes {
            byKey[push.key] = push
            byID[push.id.lowercased()] = push
        }
        for object in result.results {
            let push = (object.properties[target.idProperty] ?? nil).flatMap { byID[$0.lowercased()] }
                ?? object.objectWriteTraceId.flatMap { byKey[$0] }
                ?? (pushes.count == 1 && result.results.count == 1 && (result.errors ?? []).isEmpty ? pushes.first : nil)
            guard let push, round.outcomes[push.key] == nil, !backwards.contains(where: { $0.0.key == push.key }) else { continue }
            if case .string(let sent)? = push.properties[Self.lifecycleStage], !sent.isEmpty,
                let held = object.properties[Self.lifecycleStage] ?? nil, !held.isEmpty, held != sent
            {
                backwards.append((push, object))
                continue
            }
            synced(push, hubSpotID: object.id, created: object.new ?? false, into: &round)
        }
        for error in result.errors ?? [] {
            let context = error.context ?? [:]
            let named = (context["objectWriteTraceId"] ?? []).compactMap { byKey[$0] }
                + (context["ids"] ?? []).compactMap { byID[$0.lowercased()] ?? byKey[$0] }
            let reason = "HubSpot refused it (\(error.category ?? "error")): \(String((error.message ?? "").prefix(300)))"
            for push in named where round.outcomes[push.key] == nil && !resend.contains(where: { $0.key == push.key }) {
                let refused = Self.refusedValues(error.propertyErrors, of: push)
                guard !refused.isEmpty else {
                    dead(push, reason: reason, into: &round)
                    continue
                }
                var again = push
                for (name, why) in refused {
                    again.properties[name] = nil
                    again.dropped[name] = why
                }
                resend.append(again)
            }
        }
        return (backwards, resend)
    }

    static let lifecycleStage = "lifecyclestage"

    /// The values of `push` that HubSpot's property errors refuse (a missing property is not one: the catalog handles
    /// it), each with HubSpot's reason.
    static func refusedValues(_ errors: [HubSpotError.PropertyError], of push: Push) -> [String: String] {
        var refused: [String: String] = [:]
        for error in errors {
            guard let name = error.name, error.error != "PROPERTY_DOESNT_EXIST", push.properties[name] != nil,
                name != push.target.idProperty
            else { continue }
            refused[name] = "HubSpot refused the value (\(error.error ?? "invalid")): \(String((error.message ?? "").prefix(200)))"
        }
        return refused
    }

    /// HubSpot kept a later lifecycle stage than the one sent (it does not move the stage backwards): per the mapping's
    /// `lifecycle_backwards`, keep it and report the stage sent as dropped, or clear the stage and set the one sent.
    private func settleLifecycleStage(_ push: Push, answer object: HubSpotObject, into round: inout Round) async {
        let sent = Self.hubSpotString(push.properties[Self.lifecycleStage] ?? .null)
        let held = (object.properties[Self.lifecycleStage] ?? nil) ?? ""
        let policy: LifecycleBackwardsPolicy
        switch push.target {
        case .contacts: policy = mapping.contacts.lifecycleBackwards
        case .companies: policy = mapping.companies.lifecycleBackwards
        }
        switch policy {
        case .keep:
            var kept = push
            kept.properties[Self.lifecycleStage] = nil
            kept.acknowledged[Self.lifecycleStage] = .string(held)
            kept.dropped[Self.lifecycleStage] =
                "HubSpot keeps the later lifecycle stage '\(held)' and does not move back to '\(sent)' (lifecycle_backwards: keep)"
            synced(kept, hubSpotID: object.id, created: object.new ?? false, into: &round)
        case .clearAndSet:
            do {
                // Two requests: HubSpot takes an earlier stage only once the value is empty, and a batch promises no order.
                _ = try await client.updateObject(ofType: push.target.objectType, id: object.id, properties: [Self.lifecycleStage: ""])
                _ = try await client.updateObject(ofType: push.target.objectType, id: object.id, properties: [Self.lifecycleStage: sent])
                synced(push, hubSpotID: object.id, created: object.new ?? false, into: &round)
            } catch {
                fail([push], with: error, into: &round)
            }
        }
    }

    func synced(_ push: Push, hubSpotID: String, created: Bool, into round: inout Round) {
        var acknowledged = push.acknowledged
        for (name, value) in push.properties { acknowledged[name] = value }
        let sent = push.properties.keys.sorted()
        switch push.subject {
        case .contact(let id):
            let payload = HubSpotContactSynced(
                id: id, hubSpotID: hubSpotID, properties: acknowledged, sent: sent, created: created, dropped: push.dropped)
            round.events.append(resultEvent(payload, for: push, key: hubSpotID))
        case .company(let groupID):
            let payload = HubSpotCompanySynced(
                id: groupID, hubSpotID: hubSpotID, properties: acknowledged, sent: sent, created: created, dropped: push.dropped)
            round.events.append(resultEvent(payload, for: push, key: hubSpotID))
        }
        // Dropped properties stay different from HubSpot: the ledger remembers these desired values as done, and what
        // HubSpot holds now (the next push's difference is computed against it, before the projection has caught up).
        // After an attempt with an unknown outcome, that request may still be applied late, over this one.
        round.outcomes[push.key] =
            push.attempts > 0
            ? .confirm(after: client.configuration.timeout, desiredHash: push.desiredHash, acknowledged: acknowledged)
            : .done(desiredHash: push.desiredHash, acknowledged: acknowledged)
        outcomes(push.target, "synced").increment()
    }

    func dead(_ push: Push, reason: String, into round: inout Round) {
        round.events.append(
            resultEvent(
                HubSpotDeliveryFailed(subject: push.subject, reason: reason, properties: push.properties.keys.sorted()), for: push,
                key: "dead"))
        round.outcomes[push.key] = .dead(desiredHash: push.desiredHash, reason: reason)
        outcomes(push.target, "dead").increment()
        // HubSpot's reason can quote values (an invalid email): it goes to the ledger and the event log, not to logs.
        logger.warning(
            "HubSpot refused an object; its reason is in sync_status and deliveries.last_error",
            metadata: ["object": "\(push.key)", "type": "\(push.target.objectType)"])
    }

    /// A failure of the whole call: retryable ones reschedule with backoff until the attempts run out.
    func fail(_ pushes: [Push], with error: any Error, into round: inout Round) {
        let reason = Self.reason(error)
        round.lastError = reason
        for push in pushes {
            let decision = decide(after: error, attempts: push.attempts + 1)
            round.outcomes[push.key] = decision
            if case .retry = decision {
                outcomes(push.target, "retry").increment()
            } else {
                dead(push, reason: "gave up after \(push.attempts + 1) attempts: \(reason)", into: &round)
            }
        }
        // The error's description names its code and HTTP status only (HubSpot's message stays out of logs).
        logger.warning("HubSpot push failed", metadata: ["objects": "\(pushes.count)", "error": "\(error)"])
    }

    /// After a failed call: `.retry` with backoff while the error can pass (rate limits, `5xx`, network; also
    /// `401`/`403`, which the operator fixes) and attempts remain, otherwise `.dead`.
    func decide(after error: any Error, attempts: Int) -> DeliveryLedger.Outcome {
        let hubSpotError = error as? HubSpotError
        let reason = Self.reason(error)
        let fixable = hubSpotError?.code == .unauthorized || hubSpotError?.code == .forbidden
        if (hubSpotError?.isRetryable ?? true) && attempts < configuration.retry.maximumAttempts || fixable {
            return .retry(after: configuration.retry.delay(afterAttempts: attempts, atLeast: hubSpotError?.retryAfter), reason: reason)
        }
        return .dead(desiredHash: "", reason: reason)
    }

    static func reason(_ error: any Error) -> String {
        (error as? HubSpotError)?.reason ?? "\(error)"
    }

    private func outcomes(_ target: Target, _ outcome: String) -> Counter {
        Counter(
            label: "hubsignal_delivery_objects_total",
            dimensions: [("destination", Destination.hubspot.rawValue), ("object", target.objectType), ("outcome", outcome)])
    }

    /// A result event; its idempotency key derives from what caused it (the object's last change and its desired
    /// values), so a retried push records its result once.
    func resultEvent<Payload: EventPayload>(_ payload: Payload, for push: Push, key: String) -> NewEvent {
        let stream: String
        switch push.subject {
        case .contact: stream = "contact:\(push.key)"
        case .company: stream = "company:\(push.key)"
        }
        return resultEvent(
            payload, stream: stream, idempotencyKey: "\(Payload.eventType):\(push.key):\(push.updatedPosition):\(push.desiredHash):\(key)")
    }

    /// A result event of this worker, with the worker and the mapping version as metadata.
    func resultEvent(_ payload: some EventPayload, stream: String, idempotencyKey: String) -> NewEvent {
        DeliveryLedger.resultEvent(
            payload, stream: stream, idempotencyKey: idempotencyKey,
            metadata: ["worker": .string(configuration.owner), "mappingVersion": .string(mapping.version)])
    }

    /// HubSpot's string form of a desired value (`""` clears a property).
    static func hubSpotString(_ value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .array, .object: return String(decoding: (try? value.serialized()) ?? [], as: UTF8.self)
        }
    }

    // MARK: - Status

    /// Records this worker's rate-limit budget and last error for `hubsignal status`.
    func record(error: String?) async {
        let budget = await client.rateLimiter.budget
        var object: [String: JSONValue] = ["limit": .int(Int64(budget.limit)), "remaining": .int(Int64(budget.remaining))]
        if let daily = budget.dailyRemaining { object["dailyRemaining"] = .int(Int64(daily)) }
        if let until = budget.dailyExhaustedUntil { object["dailyExhaustedUntil"] = .string(ISO8601Timestamp.format(until)) }
        if let failure = await ledger.recordWorker(destination: .hubspot, worker: configuration.owner, budget: object, error: error) {
            logger.debug("could not record the worker's status", metadata: ["error": "\(failure)"])
        }
    }
}

extension HubSpotSync: CustomStringConvertible {
    /// How ServiceLifecycle's logs name the worker: its owner only (its client holds the account's token).
    public var description: String { "HubSpotSync(owner: \(configuration.owner))" }
}
