/// Strict readers for request bodies: a missing required field or a value of the wrong type is a 400
/// `VALIDATION_ERROR` naming the field.
extension JSONObject {
    private func missing(_ key: String, _ schema: String) -> HubSpotError {
        .validation("Invalid input JSON: Cannot build \(schema), some of required attributes are not set [\(key)]")
    }

    private func wrongType(_ key: String, _ expected: String, _ value: JSON, _ schema: String) -> HubSpotError {
        .validation("Invalid input JSON: \(schema).\(key) must be \(expected), got \(value.typeName)")
    }

    func requiredString(_ key: String, _ schema: String) throws -> String {
        guard let value = try optionalString(key, schema) else { throw missing(key, schema) }
        return value
    }

    func optionalString(_ key: String, _ schema: String) throws -> String? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, "a string", value, schema) }
        return text
    }

    /// A string, also accepting an integer (ids are often sent as numbers).
    func optionalID(_ key: String, _ schema: String) throws -> String? {
        guard let value = self[key], !value.isNull else { return nil }
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        default: throw wrongType(key, "a string or an integer", value, schema)
        }
    }

    func requiredID(_ key: String, _ schema: String) throws -> String {
        guard let value = try optionalID(key, schema) else { throw missing(key, schema) }
        return value
    }

    func optionalInt(_ key: String, _ schema: String) throws -> Int? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let number = value.intValue else { throw wrongType(key, "an integer", value, schema) }
        return number
    }

    func optionalBool(_ key: String, _ schema: String) throws -> Bool? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, "a boolean", value, schema) }
        return flag
    }

    func requiredObject(_ key: String, _ schema: String) throws -> JSONObject {
        guard let value = try optionalObject(key, schema) else { throw missing(key, schema) }
        return value
    }

    func optionalObject(_ key: String, _ schema: String) throws -> JSONObject? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .object(let object) = value else { throw wrongType(key, "an object", value, schema) }
        return object
    }

    func requiredArray(_ key: String, _ schema: String) throws -> [JSON] {
        guard let value = try optionalArray(key, schema) else { throw missing(key, schema) }
        return value
    }

    func optionalArray(_ key: String, _ schema: String) throws -> [JSON]? {
        guard let value = self[key], !value.isNull else { return nil }
        guard case .array(let array) = value else { throw wrongType(key, "an array", value, schema) }
        return array
    }

    /// An array of objects.
    func requiredObjects(_ key: String, _ schema: String) throws -> [JSONObject] {
        try requiredArray(key, schema).enumerated().map { index, item in
            guard case .object(let object) = item else {
                throw HubSpotError.validation("Invalid input JSON: \(schema).\(key)[\(index)] must be an object, got \(item.typeName)")
            }
            return object
        }
    }

    /// An array of strings.
    func optionalStrings(_ key: String, _ schema: String) throws -> [String]? {
        guard let array = try optionalArray(key, schema) else { return nil }
        return try array.enumerated().map { index, item in
            guard case .string(let text) = item else {
                throw HubSpotError.validation("Invalid input JSON: \(schema).\(key)[\(index)] must be a string, got \(item.typeName)")
            }
            return text
        }
    }

    /// A `properties` map whose values must all be strings.
    func stringMap(_ key: String, _ schema: String, required: Bool) throws -> [String: String]? {
        guard let object = required ? try requiredObject(key, schema) : try optionalObject(key, schema) else { return nil }
        var map: [String: String] = [:]
        for (name, value) in object.entries {
            guard case .string(let text) = value else {
                throw HubSpotError.validation(
                    "Invalid input JSON: \(schema).\(key).\(name) must be a string, got \(value.typeName) (property values are sent as strings)")
            }
            map[name] = text
        }
        return map
    }

    /// Refuses keys outside `allowed`.
    func rejectUnknownKeys(_ allowed: Set<String>, _ schema: String) throws {
        if let unknown = keys.first(where: { !allowed.contains($0) }) {
            throw HubSpotError.validation("Invalid input JSON: Unrecognized field \"\(unknown)\" (\(schema))")
        }
    }
}
