import Foundation

/// An error answer in HubSpot's shape: `{"status":"error","message","correlationId","category", …}`.
struct HubSpotError: Error, Sendable {
    var status: Int
    var category: String
    var message: String
    var subCategory: String?
    var context: JSONObject?
    /// Extra top-level fields, written after the standard ones (e.g. the rate-limit bodies' `policyName`).
    var extra: JSONObject = [:]
    /// Headers to add to the response.
    var headers: [(String, String)] = []
    /// The id in the body's `correlationId` and the `X-HubSpot-Correlation-Id` header.
    var correlationID = HubSpotError.correlationID()
    /// Leaves `category` and the generated `correlationId` out of the body (the rate-limit bodies carry neither
    /// `category` nor a `correlationId` before `errorType`).
    var omitCategory = false

    init(status: Int, category: String, message: String, subCategory: String? = nil, context: JSONObject? = nil) {
        self.status = status
        self.category = category
        self.message = message
        self.subCategory = subCategory
        self.context = context
    }

    /// 400 `VALIDATION_ERROR`.
    static func validation(_ message: String, context: JSONObject? = nil) -> HubSpotError {
        HubSpotError(status: 400, category: "VALIDATION_ERROR", message: message, context: context)
    }

    /// 404 `OBJECT_NOT_FOUND`.
    static func notFound(_ message: String = "resource not found") -> HubSpotError {
        HubSpotError(status: 404, category: "OBJECT_NOT_FOUND", message: message)
    }

    /// 409 `CONFLICT`.
    static func conflict(_ message: String) -> HubSpotError {
        HubSpotError(status: 409, category: "CONFLICT", message: message)
    }

    /// 400 with the property problems embedded as a JSON array in the message, as HubSpot answers.
    static func invalidProperties(_ problems: [PropertyProblem], portalID: Int) -> HubSpotError {
        .validation(PropertyProblem.message(problems, portalID: portalID))
    }

    /// The body HubSpot sends for this error.
    var body: JSON {
        var object: JSONObject = ["status": "error", "message": .string(message)]
        if !omitCategory {
            object["correlationId"] = .string(correlationID)
            object["category"] = .string(category)
        }
        if let subCategory { object["subCategory"] = .string(subCategory) }
        if let context { object["context"] = .object(context) }
        for (key, value) in extra.entries { object[key] = value }
        return .object(object)
    }

    /// This error as an item of a batch response's `errors[]` (HubSpot's `StandardError`).
    var standardError: JSON {
        [
            "status": "error", "category": .string(category), "message": .string(message),
            "context": .object(context ?? [:]), "errors": [], "links": [:], "subCategory": subCategory.json, "id": nil,
        ]
    }

    /// A new random correlation id (lower-case UUID), as HubSpot puts in every error.
    static func correlationID() -> String {
        UUID().uuidString.lowercased()
    }
}
