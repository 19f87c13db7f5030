/// Where a ``HubSpotClient`` gets its OAuth access tokens: an installation whose tokens are refreshed as they expire.
///
/// A source throws `HubSpotError` (`.unauthorized` when there is no usable installation, e.g. the app is not installed
/// yet or its refresh token was revoked), so the delivery workers treat it like any refused call.
public protocol HubSpotAccessTokenSource: Sendable {
    /// The access token to send now, refreshed first when it expires soon.
    func accessToken() async throws -> String

    /// A token to send instead of `rejected`, which HubSpot answered `401`: refreshed, unless another caller (or
    /// process) already replaced `rejected` with a token that is still valid.
    func refreshedAccessToken(rejecting rejected: String) async throws -> String
}
