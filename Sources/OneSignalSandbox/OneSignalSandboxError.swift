/// A seeding call the sandbox refused, with the status and body the API would have answered.
public struct OneSignalSandboxError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status the API would answer.
    public let status: Int
    /// The JSON body the API would answer.
    public let body: String

    /// The status and body, for logs and test failures.
    public var description: String { "OneSignal sandbox refused (\(status)): \(body)" }
}
