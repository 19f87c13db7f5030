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

    /// `POST /automation/v4/actions/{appId}` → 201 with `id` and `revisionId`.
    mutating func createActionDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "PublicActionDefinitionEgg"
        var body = try call.object(schema)
        let actionURL = try body.requiredString("actionUrl", schema)
        guard let url = URL(string: actionURL), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw HubSpotError.validation("Invalid actionUrl \(actionURL): expected an absolute http(s) URL")
        }
        let objectTypes = try body.optionalStrings("objectTypes", schema) ?? []
        _ = try body.optionalArray("inputFields", schema)
        _ = try body.optionalObject("labels", schema)
        guard !objectTypes.isEmpty else {
            throw HubSpotError.validation(
                "Invalid input JSON: Cannot build \(schema), some of required attributes are not set [objectTypes]")
        }
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
}
