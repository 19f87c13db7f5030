import Domain
import Foundation
import Ingestion

/// A rule that upserts a HubSpot object record from matching Segment messages (`custom_objects:` in the mapping file),
/// like Segment's "Upsert Custom Object Record" action.
public struct CustomObjectRule: Sendable, Equatable {
    /// The rule's name, unique in the file.
    public var name: String
    /// Which messages the rule applies to.
    public var trigger: Trigger
    /// The HubSpot object type: a custom object's `p_<name>`/`p<portal>_<name>` or `2-12345` id, or a standard type
    /// such as `deals`.
    public var objectType: String
    /// Message path (`properties.order_id`, `traits.plan`, `event`) → object property.
    public var properties: [String: PropertyRule]
    /// Object properties used to find an existing record (at least one; each is a target of `properties`).
    public var searchFields: [String]
    /// Whether a record is created when none matches the search fields; default true.
    public var createIfMissing: Bool
    /// Associate the record with the message's contact (or company); `nil` = no association.
    public var association: Association?

    /// The messages a rule applies to.
    public struct Trigger: Sendable, Equatable {
        /// The message type: `track`, `identify`, `page`, `screen` or `group`.
        public var type: String
        /// For `track`, the event name; for `page`/`screen`, the page or screen name; `nil` = any.
        public var event: String?
        /// Conditions that must all hold.
        public var conditions: [Condition]

        /// A trigger on a message type, optionally an event or page name, and conditions.
        public init(type: String, event: String? = nil, conditions: [Condition] = []) {
            self.type = type
            self.event = event
            self.conditions = conditions
        }
    }

    /// A simple condition on a message value.
    public struct Condition: Sendable, Equatable {
        /// Dotted message path, e.g. `properties.currency`.
        public var path: String
        /// The test applied to the value at `path`.
        public var op: Op
        /// The value compared with (`equals`, `not_equals`, `contains`); for `exists`, `.bool(false)` means "must be absent".
        public var value: JSONValue?

        /// The tests a condition can make.
        public enum Op: String, Sendable, CaseIterable {
            case equals, notEquals = "not_equals", exists, contains
        }

        /// A condition; `value` is what `equals`, `not_equals` and `contains` compare with.
        public init(path: String, op: Op, value: JSONValue?) {
            self.path = path
            self.op = op
            self.value = value
        }

        /// Whether the condition holds for `message`. Plain values compare as numbers when one is a number and the other a
        /// number or numeric text (`19.9` equals `"19.90"`), else by their text (`true` equals `"true"`); a missing value
        /// equals nothing and is `not_equals` everything; `contains` is substring for text and membership for lists;
        /// `exists` means present and not null.
        public func holds(for message: JSONValue) -> Bool {
            let found = message.value(atPath: path)
            switch op {
            case .exists:
                let present = found.map { !$0.isNull } ?? false
                return value == .bool(false) ? !present : present
            case .equals:
                guard let found, let value else { return false }
                return Self.same(found, value)
            case .notEquals:
                guard let found, let value else { return true }
                return !Self.same(found, value)
            case .contains:
                guard let found, let value else { return false }
                switch found {
                case .string(let text): return value.scalarText.map(text.contains) ?? false
                case .array(let items): return items.contains { Self.same($0, value) }
                default: return false
                }
            }
        }

        static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
            if a.number != nil || b.number != nil, let x = a.number ?? a.numberFromText, let y = b.number ?? b.numberFromText {
                return x == y
            }
            if a.isNull || b.isNull { return a.isNull && b.isNull }
            guard let x = a.scalarText, let y = b.scalarText else { return a == b }
            return x == y
        }
    }

    /// Association of the record with the message's contact or company.
    public struct Association: Sendable, Equatable {
        /// `contacts` or `companies`.
        public var toObject: String
        /// An association label defined in HubSpot; `nil` = the default (unlabelled) association.
        public var label: String?

        /// An association with `contacts` or `companies`, optionally labelled.
        public init(toObject: String, label: String? = nil) {
            self.toObject = toObject
            self.label = label
        }
    }

    /// A rule; `searchFields` should name properties that `properties` writes (the file reader checks it).
    public init(
        name: String, trigger: Trigger, objectType: String, properties: [String: PropertyRule], searchFields: [String],
        createIfMissing: Bool = true, association: Association? = nil
    ) {
        self.name = name
        self.trigger = trigger
        self.objectType = objectType
        self.properties = properties
        self.searchFields = searchFields
        self.createIfMissing = createIfMissing
        self.association = association
    }

    /// Whether the rule applies to `message` (a Segment message as stored): its `type`, its `event` (track) or `name`
    /// (page, screen) when the trigger names one, and every condition.
    public func matches(_ message: JSONValue) -> Bool {
        guard message["type"]?.stringValue == trigger.type else { return false }
        if let event = trigger.event {
            let key = trigger.type == "track" ? "event" : "name"
            guard message[key]?.stringValue == event else { return false }
        }
        return trigger.conditions.allSatisfy { $0.holds(for: message) }
    }

    /// The record's property values from `message`, converted by type as for contacts; paths missing from the message are
    /// left out, `null` or blank clears the property, values that cannot be converted are reported in `skipped`.
    public func properties(from message: JSONValue) -> PropertyValues {
        var result = PropertyValues()
        for (path, rule) in properties.sorted(by: { $0.key < $1.key }) {
            guard let value = message.value(atPath: path) else { continue }
            switch rule.type.convert(value) {
            case .value(let text): result.set(rule.property, text)
            case .clear: result.set(rule.property, nil)
            case .failure(let reason): result.skipped[path] = "cannot convert to \(rule.type.rawValue): \(reason)"
            }
        }
        return result
    }
}

extension JSONValue {
    /// The value as a number, for numbers only.
    fileprivate var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// Text that reads as a finite number (`"19.90"`), as a number.
    fileprivate var numberFromText: Double? {
        guard case .string(let text) = self, let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite
        else { return nil }
        return value
    }
}

// MARK: - Reading the mapping file

extension CustomObjectRule {
    static let keys = ["name", "trigger", "object_type", "properties", "search_fields", "create_if_missing", "associate"]
    static let messageTypes = ["track", "identify", "page", "screen", "group"]
    /// Top-level fields of a Segment message that a property path may start with.
    static let messageFields = [
        "type", "event", "name", "category", "properties", "traits", "context", "userId", "anonymousId", "groupId",
        "previousId", "messageId", "timestamp", "originalTimestamp", "sentAt", "receivedAt", "integrations",
    ]

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        let nameValue = try object.required("name", "a unique name for the rule, e.g. name: orders")
        let name = try nameValue.nonBlankString("a rule name")
        let trigger = try Trigger(reading: try object.required("trigger", "which messages, e.g. { type: track, event: Order Completed }"))

        let typeValue = try object.required("object_type", "the HubSpot object type, e.g. p_orders or 2-12345")
        let objectType = try typeValue.nonBlankString("a HubSpot object type")
        guard Self.isObjectType(objectType) else {
            throw typeValue.error(
                "'\(objectType)' is not a HubSpot object type; write a custom object's p_<name> or 2-<id>, or a standard type such as deals")
        }

        let propertiesValue = try object.required(
            "properties", "message path → object property, e.g. { properties.order_id: order_id }")
        let properties = try PropertyRule.readRules(propertiesValue) { _ in nil }
        guard !properties.isEmpty else { throw propertiesValue.error("map at least one message path to an object property") }
        for (path, entry) in try propertiesValue.entries("a mapping") {
            let head = String(path.split(separator: ".", maxSplits: 1).first ?? "")
            guard Self.messageFields.contains(head) else {
                let suggestion = Suggestion.closest(to: head, among: Self.messageFields).map { "; did you mean '\($0)'?" } ?? ""
                throw entry.error(
                    "'\(path)' is not a message path; start with properties., traits., context. or a message field such as event\(suggestion)")
            }
        }

        let searchValue = try object.required("search_fields", "the object properties that identify a record, e.g. [order_id]")
        let searchFields = try searchValue.stringList("object property names")
        guard !searchFields.isEmpty else { throw searchValue.error("name at least one object property to find records by") }
        let mapped = Set(properties.values.map(\.property))
        for (index, field) in searchFields.enumerated() where !mapped.contains(field) {
            throw MappingError(
                file: searchValue.file, path: Path.index(searchValue.path, index),
                message: "'\(field)' is not mapped under properties; search fields must be object properties the rule "
                    + "writes (\(mapped.sorted().joined(separator: ", ")))",
                line: searchValue.node.line)
        }

        var association: Association?
        if let associateValue = object["associate"] {
            let associate = try associateValue.object(keys: ["to", "label"], hint: "{ to: contacts, label: buyer }")
            let to = try associate.required("to", "contacts or companies").choice(["contacts", "companies"])
            association = Association(toObject: to, label: try associate["label"]?.nonBlankString("an association label"))
        }
        self.init(
            name: name, trigger: trigger, objectType: objectType, properties: properties, searchFields: searchFields,
            createIfMissing: try object["create_if_missing"]?.bool() ?? true, association: association)
    }

    static func isObjectType(_ text: String) -> Bool {
        if Names.isValidHubSpotName(text) { return true }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }
    }

    var canonical: JSONValue {
        .object([
            "name": .string(name), "object_type": .string(objectType), "properties": PropertyRule.canonical(properties),
            "search_fields": .array(searchFields.map(JSONValue.string)), "create_if_missing": .bool(createIfMissing),
            "associate": association.map { .object(["to": .string($0.toObject), "label": $0.label.map(JSONValue.string) ?? .null]) }
                ?? .null,
            "trigger": .object([
                "type": .string(trigger.type), "event": trigger.event.map(JSONValue.string) ?? .null,
                "conditions": .array(trigger.conditions.map { condition in
                    .object(["path": .string(condition.path), "op": .string(condition.op.rawValue), "value": condition.value ?? .null])
                }),
            ]),
        ])
    }
}

extension CustomObjectRule.Trigger {
    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: ["type", "event", "conditions"])
        let type = try object.required("type", "the message type: \(CustomObjectRule.messageTypes.joined(separator: ", "))")
            .choice(CustomObjectRule.messageTypes)
        var event: String?
        if let eventValue = object["event"] {
            guard ["track", "page", "screen"].contains(type) else {
                throw eventValue.error("only track (event name), page and screen (name) triggers take 'event'; remove it")
            }
            event = try eventValue.nonBlankString("an event name")
        }
        var conditions: [CustomObjectRule.Condition] = []
        if let conditionsValue = object["conditions"] {
            for item in try conditionsValue.list("a list of conditions such as { path: properties.currency, equals: USD }") {
                conditions.append(try CustomObjectRule.Condition(reading: item))
            }
        }
        self.init(type: type, event: event, conditions: conditions)
    }
}

extension CustomObjectRule.Condition {
    /// Reads `{ path: properties.currency, equals: USD }` with exactly one of equals, not_equals, exists, contains.
    init(reading value: MappingValue) throws(MappingError) {
        let operators = Op.allCases.map(\.rawValue)
        let object = try value.object(keys: ["path"] + operators, hint: "{ path: properties.currency, equals: USD }")
        let pathValue = try object.required("path", "the message path to test, e.g. path: properties.currency")
        let path = try pathValue.nonBlankString("a message path")
        let given = operators.filter { object.values[$0] != nil }
        guard given.count == 1, let opName = given.first, let operand = object.values[opName] else {
            throw value.error(
                given.isEmpty
                    ? "missing the test: add one of \(operators.joined(separator: ", ")), e.g. equals: USD"
                    : "one test per condition; found \(given.joined(separator: " and ")), split them into separate conditions")
        }
        let op = Op(rawValue: opName)!
        switch op {
        case .exists:
            self.init(path: path, op: op, value: .bool(try operand.bool()))
        case .contains:
            guard case .scalar = operand.node.kind, !operand.isNull else {
                throw operand.error("expected a plain value to look for, found \(operand.kindDescription)")
            }
            self.init(path: path, op: op, value: operand.json())
        case .equals, .notEquals:
            if case .mapping = operand.node.kind {
                throw operand.error("expected a plain value or list, found a mapping")
            }
            self.init(path: path, op: op, value: operand.json())
        }
    }
}
