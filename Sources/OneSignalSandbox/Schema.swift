/// A JSON Schema subset, enough for the request bodies of the OneSignal OpenAPI document (see `OneSignalSchemas`).
indirect enum Schema: Sendable {
    /// A string, optionally limited to `enumeration` and to `maxLength` characters.
    case string(enumeration: [String]? = nil, maxLength: Int? = nil, nullable: Bool = false)
    /// A whole number, optionally limited to `integerEnumeration`.
    case integer(integerEnumeration: [Int64]? = nil, nullable: Bool = false)
    /// Any number.
    case number(nullable: Bool = false)
    /// `true` or `false`.
    case boolean(nullable: Bool = false)
    /// An array whose items all match the schema.
    case array(Schema, nullable: Bool = false)
    /// An object: named members, required ones, and a schema for other members (`nil`: anything goes).
    case object(
        properties: [String: Schema] = [:], required: [String] = [], additionalProperties: Schema? = nil,
        minProperties: Int? = nil, maxProperties: Int? = nil, nullable: Bool = false)
    /// A value matching at least one of the schemas.
    case anyOf([Schema])
    /// Any value.
    case any
}
