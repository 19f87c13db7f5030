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

    /// `POST /automation/v4/actions/callbacks/{callbackId}/complete` `{"outputFields":{…}}` → 204.
    mutating func completeCallback(_ call: HubSpotCall) throws -> HubSpotReply {
        let fields = try outputFields(try call.object("CallbackCompletionRequest"), "CallbackCompletionRequest")
        callbackCompletions.append(
            CallbackCompletionRecord(callbackID: call.parameters[0], outputFields: fields, receivedAt: call.now))
        return .noContent
    }

    /// `POST /automation/v4/actions/callbacks/complete` `{"inputs":[{"callbackId","outputFields"}]}` → 204.
    mutating func completeCallbacks(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "BatchInputCallbackCompletionBatchRequest"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        let completions = try inputs.map { input in
            CallbackCompletionRecord(
                callbackID: try input.requiredString("callbackId", "CallbackCompletionBatchRequest"),
                outputFields: try outputFields(input, "CallbackCompletionBatchRequest"), receivedAt: call.now)
        }
        callbackCompletions += completions
        return .noContent
    }

    /// Checks a definition as create and update do: an absolute http(s) `actionUrl` and at least one object type;
    /// `inputFields` an array and `labels` an object when present. Returns the `actionUrl`.
    private func validatedActionURL(_ definition: JSONObject, _ schema: String) throws -> String {
        let actionURL = try definition.requiredString("actionUrl", schema)
        guard let url = URL(string: actionURL), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw HubSpotError.validation("Invalid actionUrl \(actionURL): expected an absolute http(s) URL")
        }
        let objectTypes = try definition.optionalStrings("objectTypes", schema) ?? []
        _ = try definition.optionalArray("inputFields", schema)
        _ = try definition.optionalObject("labels", schema)
        guard !objectTypes.isEmpty else {
            throw HubSpotError.validation(
                "Invalid input JSON: Cannot build \(schema), some of required attributes are not set [objectTypes]")
        }
        return actionURL
    }

    /// `POST /automation/v4/actions/{appId}` → 201 with `id` and `revisionId`.
    mutating func createActionDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "PublicActionDefinitionEgg"
        var body = try call.object(schema)
        let actionURL = try validatedActionURL(body, schema)
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

    /// `GET /automation/v4/actions/{appId}` → `{"results":[…]}`.
    func listActionDefinitions(_ call: HubSpotCall) throws -> HubSpotReply {
        let results = try actionDefinitions.filter { $0.appID == call.parameters[0] }.map { try JSON.parse(Data($0.definitionJSON.utf8)) }
        return .json(["results": .array(results)])
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
        let actionURL = try validatedActionURL(definition, schema)
        let revision = String((Int(record.revisionID) ?? 1) + 1)
        definition["revisionId"] = .string(revision)
        actionDefinitions[index] = ActionDefinitionRecord(
            appID: record.appID, id: record.id, revisionID: revision, actionURL: actionURL,
            definitionJSON: JSON.object(definition).serialized)
        return .json(.object(definition))
    }
}
