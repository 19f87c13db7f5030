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
    /// - Parameters:
    ///   - callbackID: The execution request's `callbackId`.
    ///   - outputFields: The action's outputs, with `hs_execution_state` (`SUCCESS` or `FAIL_CONTINUE`).
    public func completeWorkflowAction(callbackID: String, outputFields: [String: String]) async throws {
        struct Body: Encodable { var outputFields: [String: String] }
        _ = try await send(
            .POST, "/automation/v4/actions/callbacks/\(Self.pathSegment(callbackID))/complete", body: Body(outputFields: outputFields))
    }

    /// `POST /automation/v4/actions/callbacks/complete`: finishes several action executions, in batches of
    /// ``Configuration-swift.struct/batchSize``.
    /// - Parameter completions: Each execution's `callbackId` and outputs (with `hs_execution_state`).
    public func completeWorkflowActions(_ completions: [(callbackID: String, outputFields: [String: String])]) async throws {
        struct Input: Encodable {
            var callbackId: String
            var outputFields: [String: String]
        }
        struct Body: Encodable { var inputs: [Input] }
        let inputs = completions.map { Input(callbackId: $0.callbackID, outputFields: $0.outputFields) }
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
