import Domain

extension JSONValue {
    /// The elements of an array, or `nil` if this is not an array.
    var arrayItems: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
