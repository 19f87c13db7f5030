/// An event the store refuses before sending anything to the database.
public struct EventStoreError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and with which event (its index in the batch); never the payload.
    public var message: String
    /// The index of the offending event in the batch.
    public var index: Int?

    init(_ message: String, index: Int? = nil) {
        self.message = message
        self.index = index
    }

    public var description: String { message }
}
