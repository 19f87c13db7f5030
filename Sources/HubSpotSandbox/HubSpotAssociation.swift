/// One association from an object to another, with its types, as tests inspect it.
public struct HubSpotAssociation: Sendable, Equatable {
    /// One association type between the pair.
    public struct AssociationType: Sendable, Hashable {
        /// `HUBSPOT_DEFINED`, `USER_DEFINED`, `INTEGRATOR_DEFINED` or `WORK`.
        public let category: String
        /// e.g. 279 (contact → company, unlabelled), 1 (primary company).
        public let typeID: Int
        /// The label, `nil` for unlabelled types.
        public let label: String?

        /// An association type.
        public init(category: String, typeID: Int, label: String?) {
            self.category = category
            self.typeID = typeID
            self.label = label
        }
    }

    /// The target's object type (plural name, e.g. `companies`).
    public let toObjectType: String
    /// The target's id.
    public let toObjectID: String
    /// The association types between the pair, in the order they were added.
    public let types: [AssociationType]
}
