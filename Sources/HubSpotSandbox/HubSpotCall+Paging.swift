/// One page of a list HubSpot pages with `limit` and an `after` cursor (`paging.next.after`).
struct HubSpotPage<Element> {
    /// The elements of this page.
    let elements: ArraySlice<Element>
    /// `{"next": {"after", "link"}}` when more follow, else `nil` (HubSpot then leaves `paging` out).
    let paging: JSON?
}

extension HubSpotCall {
    /// The page of `all` this call asks for: `limit` (1–100, `defaultLimit` when absent) elements from the `after`
    /// cursor on. A cursor this list did not give, or a limit out of range, is 400 `VALIDATION_ERROR`.
    func page<Element>(of all: [Element], defaultLimit: Int) throws -> HubSpotPage<Element> {
        let limit = try integer("limit") ?? defaultLimit
        guard (1...100).contains(limit) else {
            throw HubSpotError.validation("Invalid query parameter limit: \(limit) is not between 1 and 100")
        }
        var start = 0
        if let after = query["after"] {
            guard let offset = Int(after), offset >= 0 else {
                throw HubSpotError.validation("Invalid query parameter after: \(after) is not a cursor this list gave")
            }
            start = min(offset, all.count)
        }
        let elements = all[start..<min(start + limit, all.count)]
        guard elements.endIndex < all.count else { return HubSpotPage(elements: elements, paging: nil) }
        let next = String(elements.endIndex)
        return HubSpotPage(elements: elements, paging: ["next": ["after": .string(next), "link": .string("?after=\(next)")]])
    }
}
