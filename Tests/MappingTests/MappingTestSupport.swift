import Domain
import Ingestion
import Mapping

/// Parses `yaml` and returns the error it must fail with (`nil` when it parses).
func parseFailure(_ yaml: String, file: String = "m.yaml") -> MappingError? {
    do {
        _ = try Mapping.parse(yaml, file: file)
        return nil
    } catch {
        return error
    }
}

/// Parses `yaml`, which must be valid.
func parsed(_ yaml: String) throws -> Mapping {
    try Mapping.parse(yaml, file: "test.yaml")
}

/// A JSON value from JSON text, for messages and traits.
func json(_ text: String) throws -> JSONValue {
    try JSONValue.parse(Array(text.utf8))
}

/// An object's members from JSON text.
func object(_ text: String) throws -> [String: JSONValue] {
    try json(text).objectValue ?? [:]
}

/// Text values as JSON members.
func strings(_ values: [String: String]) -> [String: JSONValue] {
    values.mapValues(JSONValue.string)
}
