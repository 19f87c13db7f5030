import Domain
import EventStore
import Foundation
import HubSpot
import Logging

/// The portal's custom behavioral event definitions and their properties, as far as HubSignal knows them; and the
/// creation of the ones occurrences need.
///
/// What it knows comes first from the log (stream ``stream``: `HubSpotEventDefinitionRecorded` and
/// `HubSpotEventPropertyAdded`), read on first use and again before each question the log might answer, so a restart
/// or another worker's creation costs no HubSpot call; then from HubSpot's list (read once, and again after a `409`).
/// Everything learned from HubSpot is recorded in the log before an occurrence relies on it.
actor HubSpotEventDefinitionCatalog {
    /// The stream of the definition events.
    static let stream = "hubspot:event-definitions"

    /// HubSpot refused a definition or a property: the occurrences that need it cannot be sent.
    struct Refusal: Error {
        /// Why, with HubSpot's reason.
        var reason: String
    }

    private let client: HubSpotClient
    private let store: EventStore
    /// `pe<portal>_`: what a fully qualified name starts with.
    private let prefix: String
    private let metadata: [String: JSONValue]
    private let logger: Logger
    /// Fully qualified name → custom property → HubSpot type.
    private var known: [String: [String: String]] = [:]
    /// The next log position of ``stream`` to read.
    private var nextPosition: Int64 = 0
    /// HubSpot's list by fully qualified name, once read.
    private var listed: [String: HubSpotEventDefinition]?

    /// A catalog of the portal `portalID`; the events it records carry `metadata` (the worker, the mapping version).
    init(client: HubSpotClient, store: EventStore, portalID: String, metadata: [String: JSONValue], logger: Logger) {
        self.client = client
        self.store = store
        self.prefix = "pe\(portalID)_"
        self.metadata = metadata
        self.logger = logger
    }

    /// The custom properties (name → type) HubSignal knows the definition `eventName` has; `nil` when it knows of no
    /// such definition. Reads nothing.
    func properties(of eventName: String) -> [String: String]? {
        known[eventName]
    }

    /// Makes sure the definition `eventName` (`pe<portal>_<name>`) exists with every property in `properties` (name →
    /// type, see `BehavioralEventRules.propertyType(of:)`): reads the log, then HubSpot's list, and creates the
    /// definition or adds the missing properties, recording each before returning.
    ///
    /// - Throws: ``Refusal`` when HubSpot refuses the definition or a property (a `4xx` other than `409` and `429`);
    ///   other errors (rate limits, timeouts, `5xx`) as they came, for the caller to retry.
    func ensure(_ eventName: String, properties: [String: String]) async throws {
        do {
            try await make(eventName, properties: properties)
        } catch let error as HubSpotError where Self.isRefusal(error) {
            // Reading HubSpot's list was refused (e.g. `403`: the scope is missing, or the portal has no custom events).
            throw try await refuse(eventName, property: nil, error: error)
        }
    }

    private func make(_ eventName: String, properties: [String: String]) async throws {
        if isSatisfied(eventName, properties) { return }
        try await readLog()
        if isSatisfied(eventName, properties) { return }
        guard eventName.hasPrefix(prefix), eventName.count > prefix.count else {
            throw Refusal(reason: "\(eventName) is not a name of this portal's events (\(prefix)<name>)")
        }
        let name = String(eventName.dropFirst(prefix.count))
        if known[eventName] == nil {
            if let existing = try await listedDefinition(eventName, refresh: false) {
                try await record(existing, existed: true)
            } else {
                let wanted = properties.keys.sorted().map { HubSpotEventPropertyDefinition(name: $0, type: properties[$0]!) }
                do {
                    let created = try await client.createEventDefinition(name: name, properties: wanted)
                    var recorded = created.customProperties
                    for property in wanted where recorded[property.name] == nil { recorded[property.name] = property.type }
                    try await record(
                        HubSpotEventDefinitionRecorded(
                            eventName: eventName, definitionID: created.id?.text, properties: recorded, existed: false))
                    logger.notice("created a HubSpot behavioral event definition", metadata: ["event": "\(eventName)"])
                } catch let error as HubSpotError where error.code == .conflict {
                    // Created meanwhile (another worker, or by hand): HubSpot's list has it now.
                    guard let existing = try await listedDefinition(eventName, refresh: true) else {
                        throw try await refuse(eventName, property: nil, error: error)
                    }
                    try await record(existing, existed: true)
                } catch let error as HubSpotError where Self.isRefusal(error) {
                    throw try await refuse(eventName, property: nil, error: error)
                }
            }
        }
        for property in properties.keys.sorted() where known[eventName]?[property] == nil {
            let definition = HubSpotEventPropertyDefinition(name: property, type: properties[property]!)
            do {
                try await client.addEventProperty(definition, toDefinition: name)
            } catch let error as HubSpotError where Self.isRefusal(error) {
                throw try await refuse(eventName, property: property, error: error)
            }
            try await record(HubSpotEventPropertyAdded(eventName: eventName, property: property, type: definition.type))
            logger.notice("added a property to a HubSpot behavioral event definition", metadata: ["event": "\(eventName)", "property": "\(property)"])
        }
    }

    /// Forgets HubSpot's list and what the log said of `eventName`: HubSpot refused an occurrence of it, so the
    /// definition may have changed there. The next ``ensure(_:properties:)`` asks HubSpot.
    func invalidate(_ eventName: String) {
        known[eventName] = nil
        listed = nil
    }

    // MARK: - Private

    private func isSatisfied(_ eventName: String, _ properties: [String: String]) -> Bool {
        guard let have = known[eventName] else { return false }
        return properties.keys.allSatisfy { have[$0] != nil }
    }

    /// A refusal is final for the occurrences: a `4xx` other than `401` (a token to refresh), `409` and `429`.
    private static func isRefusal(_ error: HubSpotError) -> Bool {
        error.code == .validation || error.code == .notFound || error.code == .forbidden
    }

    /// Reads the definition events recorded since the last read.
    private func readLog() async throws {
        while true {
            let events = try await store.events(inStream: Self.stream, fromPosition: nextPosition, limit: 500)
            for event in events { apply(event) }
            guard let last = events.last else { return }
            nextPosition = last.position + 1
            if events.count < 500 { return }
        }
    }

    private func apply(_ event: RecordedEvent) {
        do {
            if let recorded = try event.payload(as: HubSpotEventDefinitionRecorded.self) {
                known[recorded.eventName, default: [:]].merge(recorded.properties) { current, _ in current }
            } else if let added = try event.payload(as: HubSpotEventPropertyAdded.self) {
                known[added.eventName, default: [:]][added.property] = added.type
            }
        } catch {
            logger.warning("skipped an event definition event that does not decode", metadata: ["position": "\(event.position)"])
        }
    }

    private func listedDefinition(_ eventName: String, refresh: Bool) async throws -> HubSpotEventDefinition? {
        if refresh || listed == nil {
            listed = Dictionary(try await client.eventDefinitions().map { ($0.fullyQualifiedName, $0) }, uniquingKeysWith: { first, _ in first })
        }
        return listed?[eventName]
    }

    private func record(_ definition: HubSpotEventDefinition, existed: Bool) async throws {
        try await record(
            HubSpotEventDefinitionRecorded(
                eventName: definition.fullyQualifiedName, definitionID: definition.id?.text, properties: definition.customProperties,
                existed: existed))
    }

    private func record(_ payload: HubSpotEventDefinitionRecorded) async throws {
        try await append(payload, key: "\(HubSpotEventDefinitionRecorded.eventType):\(payload.eventName)")
        known[payload.eventName, default: [:]].merge(payload.properties) { current, _ in current }
    }

    private func record(_ payload: HubSpotEventPropertyAdded) async throws {
        try await append(payload, key: "\(HubSpotEventPropertyAdded.eventType):\(payload.eventName):\(payload.property)")
        known[payload.eventName, default: [:]][payload.property] = payload.type
    }

    /// Records HubSpot's refusal (once per definition, property and reason) and returns the ``Refusal`` to throw.
    private func refuse(_ eventName: String, property: String?, error: HubSpotError) async throws -> Refusal {
        let what = property.map { "the property \($0) of the event definition \(eventName)" } ?? "the event definition \(eventName)"
        let reason = "HubSpot refused \(what): \(error.reason)"
        let payload = HubSpotEventDefinitionRefused(eventName: eventName, property: property, reason: reason)
        try await append(
            payload, key: "\(HubSpotEventDefinitionRefused.eventType):\(eventName):\(property ?? "-"):\(Self.digest(reason))")
        logger.warning(
            "HubSpot refused a behavioral event definition; its reason is in the log of events",
            metadata: ["event": "\(eventName)", "property": "\(property ?? "-")"])
        return Refusal(reason: reason)
    }

    private func append(_ payload: some EventPayload, key: String) async throws {
        _ = try await store.append([
            DeliveryLedger.resultEvent(payload, stream: Self.stream, idempotencyKey: key, metadata: metadata)
        ])
    }

    /// FNV-1a of `text` in hex: a stable short key part (Swift's `hashValue` changes between processes).
    private static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
