import Foundation

/// Acting like HubSpot's workflow editor toward an app: fetching an input's options from its `optionsUrl`.
///
/// What HubSpot sends and expects (developers.hubspot.com, custom workflow actions reference, "Fetch external data
/// fields"; the v4 spec's `PublicFieldTypeDefinition.optionsUrl`): a POST signed like action executions, whose body names
/// the portal and definition (`origin`), the input (`inputFieldName`), the values of the inputs it depends on
/// (`inputFields`, each `{"type":"STATIC_VALUE","value":…}`; HubSpot passes another input's value only when the
/// definition's `inputFieldDependencies` make it a controlling field of this input) and the search and page
/// (`fetchOptions.q`, `fetchOptions.after`); the answer `{"options":[{"label","value","description"}],"after",
/// "searchable"}`.
extension HubSpotSandbox {
    /// One option of an options answer.
    public struct ActionOption: Sendable, Equatable {
        public var label: String
        public var value: String
        public var description: String?
    }

    /// An app's answer to an options request, checked as HubSpot's editor reads it.
    public struct ActionOptionsPage: Sendable, Equatable {
        public var options: [ActionOption]
        /// The cursor of the next page (`fetchOptions.after` of the next request); `nil` on the last page.
        public var after: String?
        /// Whether the app filters by `fetchOptions.q` (the editor then shows a search box).
        public var searchable: Bool

        /// Reads an answer, refusing what HubSpot's editor cannot show: not a JSON object, no `options` array, an option
        /// without a string `label` and a string `value` (a number is refused: HubSpot's `PublicOption` has string
        /// values), a `description` that is not a string, an `after` that is not a string, a `searchable` that is not a
        /// boolean.
        public init(validating body: Data) throws(ActionOptionsRefusal) {
            func refuse(_ reason: String) -> ActionOptionsRefusal { ActionOptionsRefusal(status: 200, reason: reason, body: body) }
            guard let object = (try? JSON.parse(body))?.objectValue else { throw refuse("the answer is not a JSON object") }
            guard case .array(let items)? = object["options"] else { throw refuse("the answer has no options array") }
            var options: [ActionOption] = []
            for (index, item) in items.enumerated() {
                guard let option = item.objectValue else { throw refuse("options[\(index)] is not an object") }
                guard let label = option["label"]?.stringValue, !label.isEmpty else {
                    throw refuse("options[\(index)].label is missing or not a string")
                }
                guard let value = option["value"]?.stringValue else { throw refuse("options[\(index)].value is missing or not a string") }
                var description: String?
                switch option["description"] {
                case nil, .null?: description = nil
                case .string(let text)?: description = text
                default: throw refuse("options[\(index)].description is not a string")
                }
                options.append(ActionOption(label: label, value: value, description: description))
            }
            switch object["after"] {
            case nil, .null?: after = nil
            case .string(let cursor)?: after = cursor
            default: throw refuse("after is not a string")
            }
            switch object["searchable"] {
            case nil, .null?: searchable = false
            case .bool(let flag)?: searchable = flag
            default: throw refuse("searchable is not a boolean")
            }
            self.options = options
        }
    }

    /// Why HubSpot's editor could not use an options answer (or could not ask for one).
    public struct ActionOptionsRefusal: Error, Sendable, CustomStringConvertible {
        /// The app's HTTP status (`0`: no request was made).
        public var status: Int
        public var reason: String
        /// The app's answer.
        public var body: Data

        public var description: String { "options refused (\(status)): \(reason)" }
    }

    /// POSTs an options request for input `inputFieldName` of the stored action definition `definitionID` to that
    /// input's `optionsUrl`, signed with v3 (and v2) for that URL, and checks the answer as HubSpot does.
    ///
    /// - Parameters:
    ///   - inputFields: the values the user chose in the editor; only those of inputs the definition declares as
    ///     controlling this input (`inputFieldDependencies`) are sent, as HubSpot does.
    ///   - query: the user's search text (`fetchOptions.q`).
    ///   - after: the previous answer's cursor (`fetchOptions.after`).
    ///   - address: where to send the request instead of the URL's own host (a test server behind the public URL, as
    ///     through a reverse proxy); the signature still covers `optionsUrl`.
    ///   - portalID: the portal named in the request (default: the sandbox's).
    /// - Throws: ``ActionOptionsRefusal`` when the definition or input is unknown or has no `optionsUrl`, the app answers
    ///   anything but `200`, or the answer is not what the editor reads.
    public func fetchActionOptions(
        definitionID: String, inputFieldName: String, inputFields: [String: String] = [:], query: String? = nil,
        after: String? = nil, clientSecret: String, via address: URL? = nil, portalID: Int? = nil, timestamp: Date = Date(),
        timeout: Duration = .seconds(10)
    ) async throws -> ActionOptionsPage {
        guard let record = actionDefinitions().first(where: { $0.id == definitionID }),
            let definition = try? JSON.parse(Data(record.definitionJSON.utf8)).objectValue
        else {
            throw ActionOptionsRefusal(status: 0, reason: "no action definition \(definitionID)", body: Data())
        }
        let inputs = definition["inputFields"]?.items?.compactMap { $0.objectValue?["typeDefinition"]?.objectValue } ?? []
        guard let input = inputs.first(where: { $0["name"]?.stringValue == inputFieldName }) else {
            throw ActionOptionsRefusal(status: 0, reason: "the definition has no input \(inputFieldName)", body: Data())
        }
        guard let optionsURL = input["optionsUrl"]?.stringValue, let url = URL(string: optionsURL) else {
            throw ActionOptionsRefusal(status: 0, reason: "the input \(inputFieldName) has no optionsUrl", body: Data())
        }
        let controlling = Set(
            (definition["inputFieldDependencies"]?.items ?? []).compactMap { dependency -> String? in
                guard let object = dependency.objectValue,
                    object["dependentFieldNames"]?.items?.contains(.string(inputFieldName)) == true
                else { return nil }
                return object["controllingFieldName"]?.stringValue
            })
        var fields: [(String, JSON)] = []
        for (name, value) in inputFields.sorted(by: { $0.key < $1.key }) where controlling.contains(name) {
            fields.append((name, .object(JSONObject([("type", .string("STATIC_VALUE")), ("value", .string(value))]))))
        }
        var fetchOptions: [(String, JSON)] = []
        if let query { fetchOptions.append(("q", .string(query))) }
        if let after { fetchOptions.append(("after", .string(after))) }
        let payload = JSON.object(
            JSONObject([
                (
                    "origin",
                    .object(
                        JSONObject([
                            ("portalId", .int(portalID ?? configuration.portalID)), ("actionDefinitionId", .int(Int(record.id) ?? 0)),
                            ("actionDefinitionVersion", .int(Int(record.revisionID) ?? 1)),
                        ]))
                ),
                ("objectTypeId", .string("0-1")),
                ("inputFieldName", .string(inputFieldName)),
                ("inputFields", .object(JSONObject(fields))),
                ("fetchOptions", .object(JSONObject(fetchOptions))),
            ]))
        let body = payload.data
        let stamp = String(Int64((timestamp.timeIntervalSince1970 * 1000).rounded()))
        let headers = [
            ("X-HubSpot-Signature-v3", HubSpotSigner.v3(clientSecret: clientSecret, method: "POST", uri: optionsURL, body: body, timestamp: stamp)),
            ("X-HubSpot-Request-Timestamp", stamp),
            ("X-HubSpot-Signature", HubSpotSigner.v2(clientSecret: clientSecret, method: "POST", uri: optionsURL, body: body)),
            ("X-HubSpot-Signature-Version", "v2"),
        ]
        var target = url
        if let address, var components = URLComponents(url: url, resolvingAgainstBaseURL: false) {
            components.scheme = address.scheme
            components.host = address.host
            components.port = address.port
            target = components.url ?? url
        }
        let response = try await post(body: body, to: target, headers: headers, timeout: timeout)
        guard response.status == 200 else {
            throw ActionOptionsRefusal(status: response.status, reason: "the app answered \(response.status)", body: response.body)
        }
        return try ActionOptionsPage(validating: response.body)
    }
}

extension JSON {
    /// The elements of an array, else `nil`.
    fileprivate var items: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
