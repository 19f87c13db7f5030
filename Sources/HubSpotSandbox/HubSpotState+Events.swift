import Foundation

/// Custom behavioral events (`/events/v3/send`) and timeline events v3 (`/integrators/timeline/v3/events`).
extension HubSpotState {
    static let eventPropertyLimit = 50
    static let eventBatchLimit = 500

    /// The contact an event names by email (created when missing, as HubSpot does) or by id (must exist).
    private mutating func eventContact(email: String?, objectID: String?, now: Date) throws -> String? {
        if let objectID {
            guard let id = Int(objectID), store("contacts").live(id) != nil else {
                throw HubSpotError.validation("Unable to find a contact with objectId \(objectID)")
            }
            return objectID
        }
        guard let email else { return nil }
        guard HubSpotProperty.isValidEmail(email) else {
            throw HubSpotError.validation("Invalid email address: \(email)")
        }
        if let id = store("contacts").find(property: "email", value: email) { return String(id) }
        return String(insert(["email": email.lowercased()], type: "contacts", now: now))
    }

    /// Checks one occurrence; returns the record to store.
    private mutating func parseBehavioralEvent(_ body: JSONObject, now: Date) throws -> BehavioralEventRecord {
        let schema = "BehavioralEventHttpCompletionRequest"
        try body.rejectUnknownKeys(["eventName", "properties", "email", "utk", "objectId", "occurredAt", "uuid"], schema)
        let eventName = try body.requiredString("eventName", schema)
        let prefix = "pe\(portalID)_"
        guard eventName.hasPrefix(prefix), eventName.count > prefix.count,
            eventName.dropFirst(prefix.count).allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" })
        else {
            throw HubSpotError.validation(
                "Invalid eventName \(eventName): expected the event's fully qualified name \(prefix)<name> (lower-case letters, digits, _)")
        }
        let propertiesObject = try body.requiredObject("properties", schema)
        guard propertiesObject.count <= Self.eventPropertyLimit else {
            throw HubSpotError.validation(
                "Too many properties: \(propertiesObject.count) were sent; an event accepts at most \(Self.eventPropertyLimit)")
        }
        var properties: [String: String] = [:]
        for (name, value) in propertiesObject.entries {
            guard name.count <= 50, Self.isLowerSnakeCase(name) else {
                throw HubSpotError.validation(
                    "Invalid property name \"\(name)\": names are lower-case, start with a letter, hold only a-z, 0-9 and _, "
                        + "and are at most 50 characters")
            }
            switch value {
            case .string(let text): properties[name] = text
            case .int(let number): properties[name] = String(number)
            case .double(let number): properties[name] = String(number)
            case .bool(let flag): properties[name] = String(flag)
            default:
                throw HubSpotError.validation("Invalid value of property \(name): expected a string, got \(value.typeName)")
            }
        }
        try checkAgainstDefinition(eventName: eventName, properties: properties)
        let email = try body.optionalString("email", schema)
        let utk = try body.optionalString("utk", schema)
        let objectID = try body.optionalID("objectId", schema)
        guard email != nil || utk != nil || objectID != nil else {
            throw HubSpotError.validation("The event does not identify a contact: send email, utk or objectId")
        }
        var occurredAt = now
        if let text = try body.optionalString("occurredAt", schema) {
            guard let date = HubSpotTime.parse(text, allowMilliseconds: false) else {
                throw HubSpotError.validation("Invalid occurredAt \(text): expected an ISO 8601 timestamp")
            }
            occurredAt = date
        }
        let contactID = try eventContact(email: email, objectID: objectID, now: now)
        return BehavioralEventRecord(
            eventName: eventName, email: email, utk: utk, objectID: contactID, uuid: try body.optionalString("uuid", schema),
            occurredAt: occurredAt, properties: properties)
    }

    private mutating func record(_ event: BehavioralEventRecord) {
        if let uuid = event.uuid {
            // A repeated uuid is accepted and dropped, so a client may safely retry.
            guard behavioralEventUUIDs.insert(uuid).inserted else { return }
        }
        behavioralEvents.append(event)
    }

    /// `POST /events/v3/send` → 204.
    mutating func sendEvent(_ call: HubSpotCall) throws -> HubSpotReply {
        let event = try parseBehavioralEvent(try call.object("BehavioralEventHttpCompletionRequest"), now: call.now)
        record(event)
        return .noContent
    }

    /// `POST /events/v3/send/batch` `{"inputs":[…]}` → 204; one invalid occurrence refuses the batch.
    mutating func sendEventBatch(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "BatchedBehavioralEventHttpCompletionRequest"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        guard inputs.count <= Self.eventBatchLimit else {
            throw HubSpotError.validation(
                "Invalid input: \(inputs.count) inputs were sent; a batch accepts at most \(Self.eventBatchLimit)")
        }
        var staged = self
        var events: [BehavioralEventRecord] = []
        for (index, input) in inputs.enumerated() {
            do {
                events.append(try staged.parseBehavioralEvent(input, now: call.now))
            } catch var error as HubSpotError {
                error.message = "inputs[\(index)]: " + error.message
                throw error
            }
        }
        self = staged
        for event in events { record(event) }
        return .noContent
    }

    // MARK: - Timeline

    private mutating func parseTimelineEvent(_ body: JSONObject, now: Date) throws -> (TimelineEventRecord, JSON) {
        let schema = "TimelineEvent"
        try body.rejectUnknownKeys(
            ["eventTemplateId", "email", "objectId", "utk", "id", "timestamp", "tokens", "extraData", "timelineIFrame", "domain"],
            schema)
        let templateID = try body.requiredID("eventTemplateId", schema)
        guard let template = timelineTemplates[templateID] else {
            throw HubSpotError.notFound("Event template \(templateID) does not exist")
        }
        var tokens: [String: String] = [:]
        for (name, value) in (try body.optionalObject("tokens", schema) ?? [:]).entries {
            switch value {
            case .string(let text): tokens[name] = text
            case .int(let number): tokens[name] = String(number)
            case .double(let number): tokens[name] = String(number)
            case .bool(let flag): tokens[name] = String(flag)
            default: throw HubSpotError.validation("Invalid token \(name): expected a string or a number")
            }
            if !template.tokens.isEmpty && !template.tokens.contains(name) {
                throw HubSpotError.validation("Token \(name) is not defined on event template \(templateID)")
            }
        }
        let email = try body.optionalString("email", schema)
        let utk = try body.optionalString("utk", schema)
        var objectID = try body.optionalID("objectId", schema)
        guard email != nil || objectID != nil || utk != nil else {
            throw HubSpotError.validation("The event does not identify an object: send email, objectId or utk")
        }
        if template.objectType == "contacts" {
            objectID = try eventContact(email: email, objectID: objectID, now: now)
        } else {
            let type = try typeName(template.objectType)
            guard let raw = objectID, let id = Int(raw), store(type).live(id) != nil else {
                throw HubSpotError.validation("Events of template \(templateID) need the objectId of an existing object")
            }
        }
        var timestamp = now
        if let text = try body.optionalString("timestamp", schema) {
            guard let date = HubSpotTime.parse(text) else {
                throw HubSpotError.validation("Invalid timestamp \(text): expected an ISO 8601 timestamp")
            }
            timestamp = date
        }
        let extraData = body["extraData"].flatMap { $0.isNull ? nil : $0 }
        let id = try body.optionalString("id", schema) ?? UUID().uuidString.lowercased()
        let event = TimelineEventRecord(
            id: id, eventTemplateID: templateID, email: email, objectID: objectID, utk: utk, timestamp: timestamp,
            tokens: tokens, extraDataJSON: extraData?.serialized)
        var response: JSONObject = [
            "id": .string(id), "eventTemplateId": .string(templateID), "email": email.json, "objectId": objectID.json,
            "tokens": .object(JSONObject(tokens.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })),
        ]
        if let extraData { response["extraData"] = extraData }
        response["timestamp"] = .string(HubSpotTime.iso(timestamp))
        response["objectType"] = .string(template.objectType)
        return (event, .object(response))
    }

    /// Stores a new timeline event; a repeated id (per template) is refused with `409`: HubSpot's TL-26 spec answers
    /// it "An occurrence for this event type and occurrence ID already exists. Occurrences are immutable." (TL-v3
    /// lists no status for it; the sandbox answers both the same way, so a client must take `409` as written).
    private mutating func store(_ event: TimelineEventRecord) throws {
        guard !timelineEvents.contains(where: { $0.id == event.id && $0.eventTemplateID == event.eventTemplateID }) else {
            throw HubSpotError.conflict(
                "An occurrence for event template \(event.eventTemplateID) and occurrence ID \(event.id) already exists. "
                    + "Occurrences are immutable.")
        }
        timelineEvents.append(event)
    }

    /// `POST /integrators/timeline/v3/events` → 201.
    mutating func createTimelineEvent(_ call: HubSpotCall) throws -> HubSpotReply {
        let (event, response) = try parseTimelineEvent(try call.object("TimelineEvent"), now: call.now)
        try store(event)
        return .json(response, status: 201)
    }

    /// `POST /integrators/timeline/v3/events/batch/create` → 201 / 207.
    mutating func createTimelineEvents(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "BatchInputTimelineEvent"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        for input in inputs {
            do {
                let (event, response) = try parseTimelineEvent(input, now: call.now)
                try store(event)
                results.append(response)
            } catch var error as HubSpotError {
                if let id = input["id"]?.stringValue { error.context = ["id": [.string(id)]] }
                errors.append(error)
            }
        }
        return batchReply(results: results, errors: errors, startedAt: call.now, successStatus: 201)
    }
}
