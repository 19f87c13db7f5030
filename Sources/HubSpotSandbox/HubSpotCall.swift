import Foundation

/// One routed request: its path parameters, query and body, as handlers see them.
struct HubSpotCall: Sendable {
    /// The values of the pattern's `*` segments, in order.
    let parameters: [String]
    /// Query parameters (the first value of each name, percent-decoded).
    let query: [String: String]
    /// The raw body.
    let body: Data
    /// When the request arrived.
    let now: Date

    /// The body parsed as JSON.
    func json() throws -> JSON {
        try JSON.parse(body)
    }

    /// The body as a JSON object, named `schema` in errors.
    func object(_ schema: String) throws -> JSONObject {
        guard let object = try json().objectValue else {
            throw HubSpotError.validation("Invalid input JSON: expected a \(schema) object")
        }
        return object
    }

    /// A comma-separated query parameter as a list (absent: `nil`). Repeated names were joined by the router.
    func list(_ name: String) -> [String]? {
        query[name].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    /// A boolean query parameter.
    func flag(_ name: String) throws -> Bool {
        switch query[name] {
        case nil, "false": return false
        case "true": return true
        case let other?: throw HubSpotError.validation("Invalid query parameter \(name): \(other) is not true or false")
        }
    }

    /// An integer query parameter.
    func integer(_ name: String) throws -> Int? {
        guard let text = query[name] else { return nil }
        guard let value = Int(text) else {
            throw HubSpotError.validation("Invalid query parameter \(name): \(text) is not an integer")
        }
        return value
    }
}

/// A handler's answer: a status and an optional JSON body.
struct HubSpotReply: Sendable {
    var status: Int
    var body: JSON?

    static func json(_ body: JSON, status: Int = 200) -> HubSpotReply {
        HubSpotReply(status: status, body: body)
    }

    static let noContent = HubSpotReply(status: 204, body: nil)
}
