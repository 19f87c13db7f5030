import Foundation

/// What ``HubSpotClient/installActionDefinitions(_:appID:developerAPIKey:)`` did with one definition.
public struct HubSpotActionInstallation: Sendable, Hashable {
    /// Whether the definition was new to the app or replaced one with the same `actionUrl`.
    public enum Change: String, Sendable, Hashable {
        case created, updated
    }

    public var change: Change
    /// HubSpot's id of the definition.
    public var id: String
    /// HubSpot's revision after the change.
    public var revisionId: String?
    /// The URL HubSpot calls.
    public var actionURL: String
    /// Other definitions of the app with the same `actionUrl` (left alone; they show up twice in the workflow editor).
    public var duplicateIDs: [String]
}

/// Custom workflow actions (automation v4): the app's action definitions, made with the developer API key, and the
/// completion of action executions HubSignal answered with `BLOCK`, made with the access token.
extension HubSpotClient {
    // MARK: - Definitions (developer API key)

    /// `GET /automation/v4/actions/{appId}?hapikey=…`: every definition of a public app (all pages).
    ///
    /// Definitions are app-level: they are made with the developer account's API key, not with an account's token, and
    /// do not count against (or wait for) the account's rate limit.
    /// - Parameters:
    ///   - appID: The public app's id.
    ///   - developerAPIKey: The developer account's API key. It is sent as the `hapikey` query parameter and never logged.
    public func actionDefinitions(appID: String, developerAPIKey: String) async throws -> [HubSpotActionDefinition] {
        struct Next: Decodable { var after: String }
        struct Paging: Decodable { var next: Next? }
        struct Page: Decodable {
            var results: [HubSpotActionDefinition]
            var paging: Paging?
        }
        var definitions: [HubSpotActionDefinition] = []
        var after: String?
        repeat {
            var path = "/automation/v4/actions/\(Self.pathSegment(appID))?limit=100"
            if let after { path += "&after=" + Self.queryValue(after) }
            let answer = try await send(.GET, path, body: Optional<Int>.none, limiter: .none, authentication: .developerAPIKey(developerAPIKey))
            let page = try decode(Page.self, from: answer)
            definitions += page.results
            after = page.paging?.next?.after
        } while after != nil
        return definitions
    }

    /// `POST /automation/v4/actions/{appId}?hapikey=…`: creates a definition. Returns it as HubSpot stored it, with its
    /// `id` and `revisionId`.
    /// - Parameters:
    ///   - appID: The public app's id.
    ///   - developerAPIKey: The developer account's API key (never logged).
    ///   - definition: The definition; its `id` and `revisionId` are not sent.
    public func createActionDefinition(
        appID: String, developerAPIKey: String, definition: HubSpotActionDefinition
    ) async throws -> HubSpotActionDefinition {
        let answer = try await send(
            .POST, "/automation/v4/actions/\(Self.pathSegment(appID))", body: definition.egg, limiter: .none,
            authentication: .developerAPIKey(developerAPIKey))
        return try decode(HubSpotActionDefinition.self, from: answer)
    }

    /// `PATCH /automation/v4/actions/{appId}/{definitionId}?hapikey=…`: replaces the fields of a definition (all but its
    /// functions). Returns the updated definition. An unknown id throws ``HubSpotError/Code-swift.struct/notFound``.
    /// - Parameters:
    ///   - appID: The public app's id.
    ///   - definitionID: The definition's id.
    ///   - developerAPIKey: The developer account's API key (never logged).
    ///   - definition: The new fields; its `id`, `revisionId` and `functions` are not sent.
    public func updateActionDefinition(
        appID: String, definitionID: String, developerAPIKey: String, definition: HubSpotActionDefinition
    ) async throws -> HubSpotActionDefinition {
        let answer = try await send(
            .PATCH, "/automation/v4/actions/\(Self.pathSegment(appID))/\(Self.pathSegment(definitionID))", body: definition.patch,
            limiter: .none, authentication: .developerAPIKey(developerAPIKey))
        return try decode(HubSpotActionDefinition.self, from: answer)
    }

    /// Registers definitions with a public app, idempotently: a definition whose `actionUrl` an existing definition of
    /// the app already has updates that one (the oldest, when several have it), any other is created.
    ///
    /// Running it again with the same definitions creates nothing. A definition whose `actionUrl` changed (e.g. a new
    /// public host) is created anew; the old one stays until it is archived in HubSpot.
    /// - Parameters:
    ///   - definitions: The definitions, in the order to install them.
    ///   - appID: The public app's id.
    ///   - developerAPIKey: The developer account's API key (never logged).
    /// - Returns: One installation per definition, in order.
    public func installActionDefinitions(
        _ definitions: [HubSpotActionDefinition], appID: String, developerAPIKey: String
    ) async throws -> [HubSpotActionInstallation] {
        let existing = try await actionDefinitions(appID: appID, developerAPIKey: developerAPIKey)
        var installations: [HubSpotActionInstallation] = []
        for definition in definitions {
            let matching = existing.filter { $0.actionUrl == definition.actionUrl }.compactMap(\.id)
                .sorted { ($0.count, $0) < ($1.count, $1) }
            if let id = matching.first {
                do {
                    let updated = try await updateActionDefinition(
                        appID: appID, definitionID: id, developerAPIKey: developerAPIKey, definition: definition)
                    installations.append(
                        HubSpotActionInstallation(
                            change: .updated, id: updated.id ?? id, revisionId: updated.revisionId, actionURL: updated.actionUrl,
                            duplicateIDs: Array(matching.dropFirst())))
                    continue
                } catch let error as HubSpotError where error.code == .notFound {
                    // Archived since the listing: create it again below.
                }
            }
            let created = try await createActionDefinition(appID: appID, developerAPIKey: developerAPIKey, definition: definition)
            guard let id = created.id else {
                throw HubSpotError(code: .decoding, status: 201, message: "HubSpot created an action definition but returned no id")
            }
            installations.append(
                HubSpotActionInstallation(
                    change: .created, id: id, revisionId: created.revisionId, actionURL: created.actionUrl, duplicateIDs: []))
        }
        return installations
    }

    // MARK: - Callbacks (access token)

    /// `POST /automation/v4/actions/callbacks/{callbackId}/complete`: finishes an action execution HubSignal answered
    /// with `hs_execution_state` `BLOCK`.
    ///
    /// The body carries the outputs twice, as the spec requires both: `outputFields` (every value a string) and
    /// `typedOutputs` (the same keys, each value typed as its output is declared: a `number` output as a JSON number).
    /// - Parameters:
    ///   - callbackID: The execution request's `callbackId`.
    ///   - outputFields: The action's outputs, with `hs_execution_state` (`SUCCESS` or `FAIL_CONTINUE`).
    ///   - outputTypes: Output name → declared `type` (default: HubSignal's two actions' outputs); others are strings.
    public func completeWorkflowAction(
        callbackID: String, outputFields: [String: String], outputTypes: [String: String] = WorkflowActionDefinitions.outputTypes
    ) async throws {
        let body = CallbackCompletion(callbackId: nil, outputFields: outputFields, types: outputTypes)
        _ = try await send(.POST, "/automation/v4/actions/callbacks/\(Self.pathSegment(callbackID))/complete", body: body)
    }

    /// `POST /automation/v4/actions/callbacks/complete`: finishes several action executions, in batches of
    /// ``Configuration-swift.struct/batchSize`` (each input with `outputFields` and `typedOutputs`, as
    /// ``completeWorkflowAction(callbackID:outputFields:outputTypes:)``).
    /// - Parameters:
    ///   - completions: Each execution's `callbackId` and outputs (with `hs_execution_state`).
    ///   - outputTypes: Output name → declared `type` (default: HubSignal's two actions' outputs).
    public func completeWorkflowActions(
        _ completions: [(callbackID: String, outputFields: [String: String])],
        outputTypes: [String: String] = WorkflowActionDefinitions.outputTypes
    ) async throws {
        struct Body: Encodable { var inputs: [CallbackCompletion] }
        let inputs = completions.map { CallbackCompletion(callbackId: $0.callbackID, outputFields: $0.outputFields, types: outputTypes) }
        var start = 0
        while start < inputs.count {
            let end = min(start + configuration.batchSize, inputs.count)
            _ = try await send(.POST, "/automation/v4/actions/callbacks/complete", body: Body(inputs: Array(inputs[start..<end])))
            start = end
        }
    }

    // MARK: - Helpers

    /// A value as one query parameter value (percent-encoded, `&`, `=` and `+` included).
    static func queryValue(_ value: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

/// One completion (`CallbackCompletionRequest`, or with `callbackId` a `CallbackCompletionBatchRequest`): the outputs
/// as strings and, typed, as `typedOutputs`.
struct CallbackCompletion: Encodable {
    var callbackId: String?
    var outputFields: [String: String]
    var typedOutputs: [String: TypedOutput]

    init(callbackId: String?, outputFields: [String: String], types: [String: String]) {
        self.callbackId = callbackId
        self.outputFields = outputFields
        self.typedOutputs = Dictionary(uniqueKeysWithValues: outputFields.map { ($0.key, TypedOutput($0.value, type: types[$0.key])) })
    }

    /// An output value typed as its output's declared type (a value that does not parse as it stays a string).
    enum TypedOutput: Encodable, Equatable {
        case string(String)
        case integer(Int64)
        case number(Double)
        case bool(Bool)

        init(_ value: String, type: String?) {
            switch type {
            case "number":
                if let integer = Int64(value) {
                    self = .integer(integer)
                } else if let number = Double(value), number.isFinite {
                    self = .number(number)
                } else {
                    self = .string(value)
                }
            case "bool":
                self = value == "true" ? .bool(true) : value == "false" ? .bool(false) : .string(value)
            default:
                self = .string(value)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let text): try container.encode(text)
            case .integer(let number): try container.encode(number)
            case .number(let number): try container.encode(number)
            case .bool(let flag): try container.encode(flag)
            }
        }
    }
}

extension WorkflowActionDefinitions {
    /// Output name → declared `type` of HubSignal's two actions (`recipients` is a `number`; the rest are strings), for
    /// the `typedOutputs` of callback completions.
    public static let outputTypes: [String: String] = {
        var types: [String: String] = [:]
        for (_, definition) in WorkflowActionDefinitions(publicURL: "https://hubsignal.invalid").all {
            for output in definition.outputFields { types[output.typeDefinition.name] = output.typeDefinition.type }
        }
        return types
    }()
}
