import Foundation

/// An association type between two object types, as `GET /crm/associations/v4/{from}/{to}/labels` lists it.
public struct HubSpotAssociationType: Sendable, Hashable, Codable {
    /// `HUBSPOT_DEFINED`, `USER_DEFINED`, `INTEGRATOR_DEFINED` or `WORK`.
    public var category: String
    /// The association type id, as the labelled association calls take it.
    public var typeId: Int
    /// The label; `nil` for the unlabelled (default) type.
    public var label: String?

    /// An association type.
    public init(category: String, typeId: Int, label: String? = nil) {
        self.category = category
        self.typeId = typeId
        self.label = label
    }
}

/// Records of any object type (contacts, companies, `deals`, a custom object's `p_<name>` or `2-<id>`): search by
/// equal property values, single create and update, association labels and v4 single associations.
extension HubSpotClient {
    // MARK: - Records

    /// `POST /crm/v3/objects/{objectType}/search`: the records whose properties equal every value of `equal` (`EQ`
    /// filters in one group), oldest first (by `hs_object_id`), at most `limit`.
    ///
    /// Search has its own limit (5/s) and is eventually consistent: a record written a few seconds ago may be missing.
    public func searchObjects(ofType objectType: String, equal: [String: String], limit: Int = 10) async throws -> [HubSpotObject] {
        struct Filter: Encodable {
            var propertyName: String
            var `operator` = "EQ"
            var value: String
        }
        struct Group: Encodable { var filters: [Filter] }
        struct Sort: Encodable {
            var propertyName = "hs_object_id"
            var direction = "ASCENDING"
        }
        struct Body: Encodable {
            var filterGroups: [Group]
            var properties: [String]
            var sorts = [Sort()]
            var limit: Int
        }
        struct Found: Decodable { var results: [HubSpotObject] }
        let names = equal.keys.sorted()
        let body = Body(
            filterGroups: [Group(filters: names.map { Filter(propertyName: $0, value: equal[$0] ?? "") })], properties: names,
            limit: limit)
        let answer = try await send(.POST, "/crm/v3/objects/\(objectType)/search", body: body, limiter: .search)
        return try decodeAnswer(Found.self, from: answer).results
    }

    /// `POST /crm/v3/objects/{objectType}`: creates a record (`""` values are left out). Returns it, with its id.
    ///
    /// Sends `associations: []`: the spec (`SimplePublicObjectInputForCreate`) marks the list required.
    public func createObject(ofType objectType: String, properties: [String: String]) async throws -> HubSpotObject {
        struct None: Encodable {}
        struct Body: Encodable {
            var properties: [String: String]
            var associations: [None] = []
        }
        let answer = try await send(.POST, "/crm/v3/objects/\(objectType)", body: Body(properties: properties.filter { !$0.value.isEmpty }))
        return try decodeAnswer(HubSpotObject.self, from: answer)
    }

    /// `PATCH /crm/v3/objects/{objectType}/{id}`: writes property values of a record (`""` clears one).
    @discardableResult
    public func updateObject(ofType objectType: String, id: String, properties: [String: String]) async throws -> HubSpotObject {
        struct Body: Encodable { var properties: [String: String] }
        let answer = try await send(.PATCH, "/crm/v3/objects/\(objectType)/\(Self.pathSegment(id))", body: Body(properties: properties))
        return try decodeAnswer(HubSpotObject.self, from: answer)
    }

    // MARK: - Associations

    /// `GET /crm/associations/v4/{from}/{to}/labels`: every association type from one object type to another, labelled
    /// ones included (the current spec's path; the older `/crm/v4/associations/{from}/{to}/labels` is only in a 2024 one).
    public func associationTypes(from fromType: String, to toType: String) async throws -> [HubSpotAssociationType] {
        struct Answer: Decodable { var results: [HubSpotAssociationType] }
        let answer = try await send(.GET, "/crm/associations/v4/\(fromType)/\(toType)/labels", body: Optional<Int>.none)
        return try decodeAnswer(Answer.self, from: answer).results
    }

    /// `PUT /crm/v4/objects/{from}/{id}/associations/{to}/{toId}`: associates two records with the given types (labels);
    /// HubSpot adds the pair's default association as well.
    public func associate(
        _ fromType: String, _ fromID: String, to toType: String, _ toID: String, types: [HubSpotAssociationType]
    ) async throws {
        struct Spec: Encodable {
            var associationCategory: String
            var associationTypeId: Int
        }
        let specs = types.map { Spec(associationCategory: $0.category, associationTypeId: $0.typeId) }
        _ = try await send(
            .PUT, "/crm/v4/objects/\(fromType)/\(Self.pathSegment(fromID))/associations/\(toType)/\(Self.pathSegment(toID))",
            body: specs)
    }

    /// `PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}`: HubSpot's default (unlabelled) association
    /// of two records.
    public func associateDefault(_ fromType: String, _ fromID: String, to toType: String, _ toID: String) async throws {
        _ = try await send(
            .PUT,
            "/crm/v4/objects/\(fromType)/\(Self.pathSegment(fromID))/associations/default/\(toType)/\(Self.pathSegment(toID))",
            body: Optional<Int>.none)
    }

    // MARK: - Helpers

    /// An id as one URL path segment (HubSpot ids are digits; anything else is percent-encoded).
    static func pathSegment(_ id: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }

    private func decodeAnswer<T: Decodable>(_ type: T.Type, from answer: Answer) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(answer.body))
        } catch {
            throw HubSpotError(
                code: .decoding, status: answer.status, message: "could not read HubSpot's answer as \(T.self): \(error)")
        }
    }
}
