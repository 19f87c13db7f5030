/// One attempt of a webhook delivery made by
/// ``HubSpotSandbox/deliverWebhookWithRetries(events:to:clientSecret:maxAttempts:initialBackoff:timeout:)``.
public struct WebhookDeliveryAttempt: Sendable, Equatable {
    /// The `attemptNumber` the events carried, from 0.
    public let attemptNumber: Int
    /// The app's status, or `nil` when the attempt failed without one (connection error, timeout).
    public let status: Int?
    /// The error of a failed attempt.
    public let error: String?

    /// Whether HubSpot would try again after this attempt: on a connection error or timeout, 429 or 5xx.
    public var isRetryable: Bool {
        guard let status else { return true }
        return status == 429 || status >= 500
    }
}
