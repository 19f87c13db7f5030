extension HubSpotBatchError {
    /// The per-property problems HubSpot embedded in this input's message (`Property values were not valid: [...]`), as
    /// for a whole-request `400` (``HubSpotError/propertyErrors``); empty when the message names none.
    public var propertyErrors: [HubSpotError.PropertyError] {
        HubSpotError.embeddedPropertyErrors(in: message ?? "")
    }
}
