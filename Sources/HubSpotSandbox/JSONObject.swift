/// A JSON object whose keys keep their insertion order.
struct JSONObject: Sendable, Equatable {
    private(set) var keys: [String] = []
    private var values: [String: JSON] = [:]

    init() {}

    /// An object with these entries in this order.
    init(_ entries: [(String, JSON)]) {
        for (key, value) in entries { self[key] = value }
    }

    /// The value for `key`; setting `nil` removes the key.
    subscript(key: String) -> JSON? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    var isEmpty: Bool { keys.isEmpty }
    var count: Int { keys.count }

    /// The entries in order.
    var entries: [(key: String, value: JSON)] {
        keys.map { ($0, values[$0]!) }
    }

    static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.values == rhs.values
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (String, JSON)...) {
        for (key, value) in elements { self[key] = value }
    }
}
