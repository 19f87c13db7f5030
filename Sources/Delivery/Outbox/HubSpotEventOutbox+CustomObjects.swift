import Domain
import EventStore
import Foundation
import Ingestion
import Mapping

extension HubSpotEventOutbox {
    /// The custom object records a Segment message asks for: one `custom_object` row per `custom_objects` rule that
    /// matches it, holding the object type (as `eventName`) and the record's property values in HubSpot's string form
    /// (`""` clears a property). The contact and company are named by the message's identities and group id, and found
    /// when the row is sent.
    func customObjectRows(for event: RecordedEvent) -> [Row] {
        guard !mapping.customObjects.isEmpty, let call = event.type.segmentCall,
            var fields = (try? JSONValue.parse(event.payload.bytes))?.objectValue
        else { return [] }
        if fields["type"] == nil { fields["type"] = .string(call) }
        let message = JSONValue.object(fields)
        let rules = mapping.customObjects.filter { $0.matches(message) }
        guard !rules.isEmpty else { return [] }
        let traits = message["traits"]?.objectValue ?? message["context"]?["traits"]?.objectValue ?? [:]
        let email = traits["email"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return rules.map { rule in
            let values = rule.properties(from: message).values
            return Row(
                kind: .customObject, position: event.position, rule: rule.name,
                groupID: message["groupId"]?.identifierValue ?? message["context"]?["groupId"]?.identifierValue,
                eventName: rule.objectType, properties: values.mapValues { $0 ?? "" }, occurredAt: event.occurredAt,
                userID: message["userId"]?.identifierValue, anonymousID: message["anonymousId"]?.identifierValue,
                email: email.flatMap { $0.contains("@") ? $0 : nil }, uuid: Self.uuid(from: "\(event.idempotencyKey):\(rule.name)"))
        }
    }
}
