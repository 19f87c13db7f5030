import Foundation

/// A custom workflow action definition (automation v4): what HubSpot shows in the workflow editor and the URL it calls.
///
/// Encodes as HubSpot's `PublicActionDefinitionEgg` (create) and decodes its `PublicActionDefinition` answers (with
/// `id` and `revisionId`). Field names are HubSpot's. Decoding is lenient: a missing list is empty, unknown fields are
/// ignored.
public struct HubSpotActionDefinition: Sendable, Hashable, Codable {
    /// HubSpot's id; `nil` before the definition is created.
    public var id: String?
    /// HubSpot's revision; `nil` before the definition is created.
    public var revisionId: String?
    /// The URL HubSpot POSTs an execution request to.
    public var actionUrl: String
    /// Whether workflows can use the action (unpublished definitions are only visible to the developer).
    public var published: Bool
    /// The object types the action can run on (`CONTACT`, `COMPANY`, `DEAL`, …).
    public var objectTypes: [String]
    /// The inputs the workflow editor asks for.
    public var inputFields: [InputField]
    /// The outputs later workflow steps can use.
    public var outputFields: [OutputField]
    /// The texts per language (`en`, …).
    public var labels: [String: Labels]
    /// Serverless functions run around the action; HubSignal uses none. Required on create, not part of an update.
    public var functions: [Function]?
    /// The enrolled object's properties HubSpot sends with each execution request, as `object.properties` (HubSpot's
    /// `PublicObjectRequestOptions`); `nil`: none are sent.
    public var objectRequestOptions: ObjectRequestOptions?
    /// Inputs the workflow editor shows only when another input is set (or set to a value); `nil` or empty: none.
    public var inputFieldDependencies: [InputFieldDependency]?

    /// A definition; `functions` is `[]` so it can be sent to create.
    public init(
        actionUrl: String, published: Bool = true, objectTypes: [String], inputFields: [InputField], outputFields: [OutputField] = [],
        labels: [String: Labels], functions: [Function]? = [], objectRequestOptions: ObjectRequestOptions? = nil,
        inputFieldDependencies: [InputFieldDependency]? = nil
    ) {
        self.actionUrl = actionUrl
        self.published = published
        self.objectTypes = objectTypes
        self.inputFields = inputFields
        self.outputFields = outputFields
        self.labels = labels
        self.functions = functions
        self.objectRequestOptions = objectRequestOptions
        self.inputFieldDependencies = inputFieldDependencies
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(HubSpotObjectID.self, forKey: .id)?.text
        revisionId = try container.decodeIfPresent(HubSpotObjectID.self, forKey: .revisionId)?.text
        actionUrl = try container.decode(String.self, forKey: .actionUrl)
        published = try container.decodeIfPresent(Bool.self, forKey: .published) ?? false
        objectTypes = try container.decodeIfPresent([String].self, forKey: .objectTypes) ?? []
        inputFields = try container.decodeIfPresent([InputField].self, forKey: .inputFields) ?? []
        outputFields = try container.decodeIfPresent([OutputField].self, forKey: .outputFields) ?? []
        labels = try container.decodeIfPresent([String: Labels].self, forKey: .labels) ?? [:]
        functions = try container.decodeIfPresent([Function].self, forKey: .functions)
        objectRequestOptions = try container.decodeIfPresent(ObjectRequestOptions.self, forKey: .objectRequestOptions)
        let dependencies = try container.decodeIfPresent([InputFieldDependency].self, forKey: .inputFieldDependencies) ?? []
        inputFieldDependencies = dependencies.isEmpty ? nil : dependencies
    }

    /// The definition as sent to create it: without `id` and `revisionId`, with `functions` (`[]` when unset).
    public var egg: HubSpotActionDefinition {
        var egg = self
        egg.id = nil
        egg.revisionId = nil
        egg.functions = functions ?? []
        return egg
    }

    /// The definition as sent to update it (`PublicActionDefinitionPatch`): without `id`, `revisionId` and `functions`.
    public var patch: HubSpotActionDefinition {
        var patch = self
        patch.id = nil
        patch.revisionId = nil
        patch.functions = nil
        return patch
    }

    /// The definition as deterministic, human-readable JSON: pretty-printed, keys sorted, slashes unescaped (no trailing
    /// newline).
    public func prettyJSON() throws -> Data {
        try Self.prettyEncoder.encode(self)
    }

    /// The encoder of ``prettyJSON()``.
    static var prettyEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    // MARK: - Fields

    /// Where an input's value may come from in the workflow editor: the spec's enum has exactly these two values.
    public struct ValueType: RawRepresentable, Sendable, Hashable, Codable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A value typed into the editor.
        public static let staticValue = ValueType(rawValue: "STATIC_VALUE")
        /// A property of the enrolled object (e.g. the contact's `email`).
        public static let objectProperty = ValueType(rawValue: "OBJECT_PROPERTY")

        /// The values the spec allows (`PublicInputFieldDefinition.supportedValueTypes`).
        public static let all: [ValueType] = [.staticValue, .objectProperty]
    }

    /// A field's name and type (HubSpot's `PublicFieldTypeDefinition` for inputs, `FieldTypeDefinition` for outputs).
    ///
    /// Always encodes `options` (`[]` when there are none): the spec marks it required on inputs and outputs.
    public struct TypeDefinition: Sendable, Hashable, Codable {
        /// The key of the value in execution requests (`inputFields.<name>`) and completions (`outputFields.<name>`).
        public var name: String
        /// One of ``types``.
        public var type: String
        /// One of ``fieldTypes``; HubSpot derives one from `type` when it is absent.
        public var fieldType: String?
        /// The choices of an `enumeration`; `nil` encodes as `[]`.
        public var options: [Option]?
        /// Where the workflow editor fetches the choices instead (HubSpot POSTs a signed options request to it; see
        /// docs/hubspot-app.md); `nil`: the static `options`.
        public var optionsUrl: String?

        /// The spec's `type` enum.
        public static let types: Set<String> = [
            "bool", "date", "datetime", "enumeration", "json", "number", "object_coordinates", "phone_number", "string",
        ]
        /// The spec's `fieldType` enum.
        public static let fieldTypes: Set<String> = [
            "booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number", "phonenumber", "radio",
            "select", "text", "textarea",
        ]

        public init(name: String, type: String, fieldType: String? = nil, options: [Option]? = nil, optionsUrl: String? = nil) {
            self.name = name
            self.type = type
            self.fieldType = fieldType
            self.options = options
            self.optionsUrl = optionsUrl
        }

        private enum CodingKeys: String, CodingKey {
            case name, type, fieldType, options, optionsUrl
        }

        /// Reads `options: []` as `nil`, so a definition reads back equal to the one sent.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            type = try container.decode(String.self, forKey: .type)
            fieldType = try container.decodeIfPresent(String.self, forKey: .fieldType)
            let options = try container.decodeIfPresent([Option].self, forKey: .options) ?? []
            self.options = options.isEmpty ? nil : options
            optionsUrl = try container.decodeIfPresent(String.self, forKey: .optionsUrl)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(type, forKey: .type)
            try container.encodeIfPresent(fieldType, forKey: .fieldType)
            try container.encode(options ?? [], forKey: .options)
            try container.encodeIfPresent(optionsUrl, forKey: .optionsUrl)
        }
    }

    /// One choice of an `enumeration` field.
    public struct Option: Sendable, Hashable, Codable {
        public var label: String
        public var value: String
        public var displayOrder: Int?

        public init(label: String, value: String, displayOrder: Int? = nil) {
            self.label = label
            self.value = value
            self.displayOrder = displayOrder
        }
    }

    /// An input of the action (HubSpot's `InputFieldDefinition`).
    public struct InputField: Sendable, Hashable, Codable {
        public var typeDefinition: TypeDefinition
        /// Where the value may come from (default: typed in only).
        public var supportedValueTypes: [ValueType]
        /// Whether the editor refuses to save the action without it.
        public var isRequired: Bool

        public init(_ typeDefinition: TypeDefinition, supportedValueTypes: [ValueType] = [.staticValue], isRequired: Bool = false) {
            self.typeDefinition = typeDefinition
            self.supportedValueTypes = supportedValueTypes
            self.isRequired = isRequired
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            typeDefinition = try container.decode(TypeDefinition.self, forKey: .typeDefinition)
            supportedValueTypes = try container.decodeIfPresent([ValueType].self, forKey: .supportedValueTypes) ?? []
            isRequired = try container.decodeIfPresent(Bool.self, forKey: .isRequired) ?? false
        }
    }

    /// An output of the action (HubSpot's `OutputFieldDefinition`).
    public struct OutputField: Sendable, Hashable, Codable {
        public var typeDefinition: TypeDefinition

        public init(_ typeDefinition: TypeDefinition) {
            self.typeDefinition = typeDefinition
        }
    }

    /// The texts of one language (HubSpot's `PublicActionLabels`).
    public struct Labels: Sendable, Hashable, Codable {
        /// The action's name in the editor's list of actions.
        public var actionName: String
        /// A sentence under the name.
        public var actionDescription: String?
        /// Input name → label.
        public var inputFieldLabels: [String: String]?
        /// Input name → help text under the input.
        public var inputFieldDescriptions: [String: String]?
        /// Output name → label.
        public var outputFieldLabels: [String: String]?

        public init(
            actionName: String, actionDescription: String? = nil, inputFieldLabels: [String: String]? = nil,
            inputFieldDescriptions: [String: String]? = nil, outputFieldLabels: [String: String]? = nil
        ) {
            self.actionName = actionName
            self.actionDescription = actionDescription
            self.inputFieldLabels = inputFieldLabels
            self.inputFieldDescriptions = inputFieldDescriptions
            self.outputFieldLabels = outputFieldLabels
        }
    }

    /// Which properties of the enrolled object HubSpot sends with an execution request (`object.properties`).
    public struct ObjectRequestOptions: Sendable, Hashable, Codable {
        /// Internal property names; HubSpot leaves out a property the object has no value for.
        public var properties: [String]

        public init(properties: [String]) {
            self.properties = properties
        }
    }

    /// An input shown only as another input allows (HubSpot's `PublicSingleFieldDependency`, `SINGLE_FIELD`: when the
    /// controlling input has any value; `PublicConditionalSingleFieldDependency`, `CONDITIONAL_SINGLE_FIELD`: when it
    /// has `controllingFieldValue`).
    public struct InputFieldDependency: Sendable, Hashable, Codable {
        /// `SINGLE_FIELD` or `CONDITIONAL_SINGLE_FIELD`.
        public var dependencyType: String
        public var controllingFieldName: String
        /// The value that shows the dependent inputs (`CONDITIONAL_SINGLE_FIELD` only).
        public var controllingFieldValue: String?
        public var dependentFieldNames: [String]

        /// The inputs `dependents` shown only when the input `controlling` is `value`.
        public static func conditional(_ controlling: String, is value: String, shows dependents: [String]) -> InputFieldDependency {
            InputFieldDependency(
                dependencyType: "CONDITIONAL_SINGLE_FIELD", controllingFieldName: controlling, controllingFieldValue: value,
                dependentFieldNames: dependents)
        }

        public init(dependencyType: String, controllingFieldName: String, controllingFieldValue: String? = nil, dependentFieldNames: [String]) {
            self.dependencyType = dependencyType
            self.controllingFieldName = controllingFieldName
            self.controllingFieldValue = controllingFieldValue
            self.dependentFieldNames = dependentFieldNames
        }
    }

    /// A serverless function attached to the definition (listed by HubSpot; HubSignal defines none).
    public struct Function: Sendable, Hashable, Codable {
        /// `PRE_ACTION_EXECUTION`, `PRE_FETCH_OPTIONS`, `POST_FETCH_OPTIONS` or `POST_ACTION_EXECUTION`.
        public var functionType: String
        public var id: String?
        /// The source; HubSpot lists functions without it.
        public var functionSource: String?

        public init(functionType: String, id: String? = nil, functionSource: String? = nil) {
            self.functionType = functionType
            self.id = id
            self.functionSource = functionSource
        }
    }
}
