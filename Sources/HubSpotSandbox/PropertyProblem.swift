/// One invalid property value, as HubSpot lists them in `Property values were not valid: [ … ]`.
struct PropertyProblem: Error, Sendable, Equatable {
    /// The property's name.
    var name: String
    /// HubSpot's code, e.g. `PROPERTY_DOESNT_EXIST`, `INVALID_EMAIL`, `INVALID_OPTION`, `INVALID_DATE`.
    var error: String
    /// The human-readable message.
    var message: String

    static func doesNotExist(_ name: String) -> PropertyProblem {
        PropertyProblem(name: name, error: "PROPERTY_DOESNT_EXIST", message: "Property \"\(name)\" does not exist")
    }

    static func readOnly(_ name: String) -> PropertyProblem {
        PropertyProblem(
            name: name, error: "READ_ONLY_VALUE", message: "\"\(name)\" is a read only property; its value cannot be set.")
    }

    /// The detail object, with its keys in HubSpot's order.
    func json(portalID: Int) -> JSON {
        [
            "isValid": false, "message": .string(message), "error": .string(error), "name": .string(name),
            "localizedErrorMessage": .string(message), "portalId": .int(portalID),
        ]
    }

    /// `Property values were not valid: [{…},…]`, the message of a 400 or of a batch error.
    static func message(_ problems: [PropertyProblem], portalID: Int) -> String {
        "Property values were not valid: " + JSON.array(problems.map { $0.json(portalID: portalID) }).serialized
    }
}
