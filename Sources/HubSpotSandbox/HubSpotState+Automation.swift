import Foundation

/// Custom workflow actions: callback completions and action definitions (`/automation/v4/actions/…`).
extension HubSpotState {
    private func outputFields(_ object: JSONObject, _ schema: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in try object.requiredObject("outputFields", schema).entries {
            switch value {
            case .string(let text): fields[name] = text
            case .int(let number): fields[name] = String(number)
            case .double(let number): fields[name] = String(number)
            case .bool(let flag): fields[name] = String(flag)
            default: throw HubSpotError.validation("Invalid output field \(name): expected a string, number or boolean")
            }
        }
        if let state = fields["hs_execution_state"], !["SUCCESS", "FAIL_CONTINUE", "BLOCK", "ASYNC"].contains(state) {
            throw HubSpotError.validation(
                "Invalid hs_execution_state \(state): expected SUCCESS, FAIL_CONTINUE, BLOCK or ASYNC")
        }
        return fields
    }

    /// The completion's outputs: `outputFields` (strings, numbers or booleans) and `typedOutputs`, an object both specs
    /// (ACT-v4, ACT-2026-09) mark required next to `outputFields`; a completion without it is 400 `VALIDATION_ERROR`.
    private func completion(_ object: JSONObject, _ schema: String) throws -> [String: String] {
        let fields = try outputFields(object, schema)
        _ = try object.requiredObject("typedOutputs", schema)
        return fields
    }

    /// `POST /automation/v4/actions/callbacks/{callbackId}/complete` `{"outputFields":{…},"typedOutputs":{…}}` → 204.
    mutating func completeCallback(_ call: HubSpotCall) throws -> HubSpotReply {
        let fields = try completion(try call.object("CallbackCompletionRequest"), "CallbackCompletionRequest")
        callbackCompletions.append(
            CallbackCompletionRecord(callbackID: call.parameters[0], outputFields: fields, receivedAt: call.now))
        return .noContent
    }

    /// `POST /automation/v4/actions/callbacks/complete` `{"inputs":[{"callbackId","outputFields","typedOutputs"}]}` → 204.
    mutating func completeCallbacks(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "BatchInputCallbackCompletionBatchRequest"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        let completions = try inputs.map { input in
            CallbackCompletionRecord(
                callbackID: try input.requiredString("callbackId", "CallbackCompletionBatchRequest"),
                outputFields: try completion(input, "CallbackCompletionBatchRequest"), receivedAt: call.now)
        }
        callbackCompletions += completions
        return .noContent
    }

    /// Checks a definition as create and update do, against the spec's `PublicActionDefinitionEgg` (ACT-v4): the
    /// required fields (`actionUrl`, `published`, `objectTypes`, `inputFields`, `labels`; `functions` on create), an
    /// absolute http(s) `actionUrl`, at least one object type, each input's `isRequired` and `typeDefinition`
    /// (`name`, `type`, `options`; `type`, `fieldType` and `supportedValueTypes` within their enums), each output's
    /// `typeDefinition` (`name`, `type`, `options`) and each language's `labels.actionName`. Returns the `actionUrl`.
    private func validatedActionURL(_ definition: JSONObject, _ schema: String, requireFunctions: Bool) throws -> String {
        let actionURL = try definition.requiredString("actionUrl", schema)
        guard let url = URL(string: actionURL), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw HubSpotError.validation("Invalid actionUrl \(actionURL): expected an absolute http(s) URL")
        }
        guard try definition.optionalBool("published", schema) != nil else { throw Self.missing("published", schema) }
        guard let objectTypes = try definition.optionalStrings("objectTypes", schema) else { throw Self.missing("objectTypes", schema) }
        guard !objectTypes.isEmpty else {
            throw HubSpotError.validation("Invalid input JSON: \(schema).objectTypes must name at least one object type")
        }
        for (index, input) in try definition.requiredObjects("inputFields", schema).enumerated() {
            let item = "PublicInputFieldDefinition"
            guard try input.optionalBool("isRequired", item) != nil else { throw Self.missing("isRequired", item) }
            try validatedTypeDefinition(
                try input.requiredObject("typeDefinition", item), "PublicFieldTypeDefinition", types: Self.inputTypes,
                fieldTypes: Self.inputFieldTypes)
            for value in try input.optionalStrings("supportedValueTypes", item) ?? [] where !Self.valueTypes.contains(value) {
                throw HubSpotError.validation(
                    "Invalid input JSON: inputFields[\(index)].supportedValueTypes: \(value) is not one of [OBJECT_PROPERTY, STATIC_VALUE]")
            }
        }
        let outputs =
            try definition.optionalArray("outputFields", schema) == nil ? [] : try definition.requiredObjects("outputFields", schema)
        for output in outputs {
            try validatedTypeDefinition(
                try output.requiredObject("typeDefinition", "OutputFieldDefinition"), "FieldTypeDefinition", types: Self.outputTypes,
                fieldTypes: Self.outputFieldTypes)
        }
        let labels = try definition.requiredObject("labels", schema)
        for (language, value) in labels.entries {
            guard case .object(let texts) = value else {
                throw HubSpotError.validation("Invalid input JSON: labels.\(language) must be an object, got \(value.typeName)")
            }
            _ = try texts.requiredString("actionName", "PublicActionLabels")
        }
        if requireFunctions {
            for function in try definition.requiredObjects("functions", schema) {
                _ = try function.requiredString("functionType", "PublicActionFunction")
            }
        }
        return actionURL
    }

    /// The spec's `supportedValueTypes` enum (`PublicInputFieldDefinition`).
    private static let valueTypes: Set<String> = ["STATIC_VALUE", "OBJECT_PROPERTY"]
    /// An input's `type` enum (`PublicFieldTypeDefinition`).
    private static let inputTypes: Set<String> = [
        "bool", "date", "datetime", "enumeration", "json", "number", "object_coordinates", "phone_number", "string",
    ]
    /// An input's `fieldType` enum (`PublicFieldTypeDefinition`).
    private static let inputFieldTypes: Set<String> = [
        "booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number", "phonenumber", "radio", "select",
        "text", "textarea",
    ]
    /// An output's `type` enum (`FieldTypeDefinition`: the input's and `currency_number`).
    private static let outputTypes: Set<String> = inputTypes.union(["currency_number"])
    /// An output's `fieldType` enum (`FieldTypeDefinition`: the input's and the other calculations, `unknown`).
    private static let outputFieldTypes: Set<String> = inputFieldTypes.union([
        "calculation_read_time", "calculation_rollup", "calculation_score", "unknown",
    ])

    private static func missing(_ key: String, _ schema: String) -> HubSpotError {
        .validation("Invalid input JSON: Cannot build \(schema), some of required attributes are not set [\(key)]")
    }

    /// A field's `typeDefinition`: `name`, `type` (within `types`) and `options` (each with `label` and `value`, as
    /// `PublicOption`) required; `fieldType` within `fieldTypes` when present. Outputs' `FieldTypeDefinition` also lists
    /// `externalOptions`, `schema` and `useChirp` as required: not checked (docs/hubspot-contract.md, "Output typeDefinition").
    private func validatedTypeDefinition(_ definition: JSONObject, _ schema: String, types: Set<String>, fieldTypes: Set<String>) throws {
        let name = try definition.requiredString("name", schema)
        let type = try definition.requiredString("type", schema)
        guard types.contains(type) else {
            throw HubSpotError.validation(
                "Invalid input JSON: \(name): type \(type) is not one of [\(types.sorted().joined(separator: ", "))]")
        }
        if let fieldType = try definition.optionalString("fieldType", schema), !fieldTypes.contains(fieldType) {
            throw HubSpotError.validation(
                "Invalid input JSON: \(name): fieldType \(fieldType) is not one of [\(fieldTypes.sorted().joined(separator: ", "))]")
        }
        for option in try definition.requiredObjects("options", schema) {
            _ = try option.requiredString("label", "Option")
            _ = try option.requiredString("value", "Option")
        }
        // The editor POSTs to `optionsUrl`: it must be an absolute http(s) URL, like `actionUrl`.
        if let optionsURL = try definition.optionalString("optionsUrl", schema) {
            guard let url = URL(string: optionsURL), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw HubSpotError.validation("Invalid input JSON: \(name): invalid optionsUrl \(optionsURL): expected an absolute http(s) URL")
            }
        }
    }

    /// `POST /automation/v4/actions/{appId}` → 201 with `id` and `revisionId`.
    mutating func createActionDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "PublicActionDefinitionEgg"
        var body = try call.object(schema)
        let actionURL = try validatedActionURL(body, schema, requireFunctions: true)
        let id = String(nextActionID)
        nextActionID += 1
        var response: JSONObject = ["id": .string(id), "revisionId": "1"]
        body["id"] = nil
        body["revisionId"] = nil
        for (key, value) in body.entries { response[key] = value }
        actionDefinitions.append(
            ActionDefinitionRecord(
                appID: call.parameters[0], id: id, revisionID: "1", actionURL: actionURL, definitionJSON: JSON.object(response).serialized))
        return .json(.object(response), status: 201)
    }

    /// `GET /automation/v4/actions/{appId}?limit&after` → `{"results":[…],"paging":{"next":{"after","link"}}}` (the spec's
    /// `CollectionResponsePublicActionDefinitionForwardPaging`): pages of `limit` definitions, oldest first; `paging` only
    /// when more follow, its `after` the next call's cursor. The spec gives no default or maximum `limit`: 10 and 100 are
    /// those of HubSpot's CRM lists (undocumented here; docs/hubspot-contract.md).
    func listActionDefinitions(_ call: HubSpotCall) throws -> HubSpotReply {
        let page = try call.page(of: actionDefinitions.filter { $0.appID == call.parameters[0] }, defaultLimit: 10)
        var object: JSONObject = ["results": .array(try page.elements.map { try JSON.parse(Data($0.definitionJSON.utf8)) })]
        object["paging"] = page.paging
        return .json(.object(object))
    }

    /// The index of the app's definition with the path's id; 404 `OBJECT_NOT_FOUND` when there is none.
    private func actionDefinitionIndex(_ call: HubSpotCall) throws -> Int {
        let (appID, id) = (call.parameters[0], call.parameters[1])
        guard let index = actionDefinitions.firstIndex(where: { $0.appID == appID && $0.id == id }) else {
            throw HubSpotError.notFound("No action definition \(id) exists for app \(appID)")
        }
        return index
    }

    /// `GET /automation/v4/actions/{appId}/{definitionId}` → the definition; 404 when the app has no such definition.
    func getActionDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        .json(try JSON.parse(Data(actionDefinitions[try actionDefinitionIndex(call)].definitionJSON.utf8)))
    }

    /// `PATCH /automation/v4/actions/{appId}/{definitionId}` (`PublicActionDefinitionPatch`: any top-level fields but
    /// `functions`) → 200 with the whole definition, its `revisionId` one higher. The result is checked as on create
    /// (400); an unknown definition is 404.
    mutating func updateActionDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "PublicActionDefinitionPatch"
        let index = try actionDefinitionIndex(call)
        let patch = try call.object(schema)
        let record = actionDefinitions[index]
        guard var definition = try JSON.parse(Data(record.definitionJSON.utf8)).objectValue else {
            throw HubSpotError(status: 500, category: "INTERNAL_ERROR", message: "The stored definition is not an object")
        }
        for (key, value) in patch.entries where !["id", "revisionId", "functions"].contains(key) {
            definition[key] = value
        }
        let actionURL = try validatedActionURL(definition, schema, requireFunctions: false)
        let revision = String((Int(record.revisionID) ?? 1) + 1)
        definition["revisionId"] = .string(revision)
        actionDefinitions[index] = ActionDefinitionRecord(
            appID: record.appID, id: record.id, revisionID: revision, actionURL: actionURL,
            definitionJSON: JSON.object(definition).serialized)
        return .json(.object(definition))
    }
}
