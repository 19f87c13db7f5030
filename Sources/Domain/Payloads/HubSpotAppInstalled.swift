/// `hubsignal.hubspot.app_installed`: a HubSpot user installed (or re-authorized) HubSignal's app in a portal through
/// OAuth, and HubSignal now holds that portal's refresh token (encrypted, in `hubspot_installations`; never in the
/// log).
///
/// Its stream is `hubspot-installation:<portalId>`. Re-authorizing the same portal records another event; an install
/// from another portal than the bound one is refused and records none.
public struct HubSpotAppInstalled: EventPayload {
    public static let eventType = EventType.hubSpotAppInstalled

    /// The portal (Hub ID) the app was installed in (`portalId`).
    public var portalID: String
    /// HubSpot's id of the app (`appId`; absent when HubSpot did not say).
    public var appID: String?
    /// The HubSpot user who approved the install (`userId`; absent when HubSpot did not say).
    public var userID: String?
    /// The scopes granted, sorted (`scopes`).
    public var scopes: [String]
    /// How long HubSpot said the first access token lives, in seconds (`expiresIn`; HubSpot: 1800).
    public var expiresIn: Int

    public init(portalID: String, appID: String?, userID: String?, scopes: [String], expiresIn: Int) {
        self.portalID = portalID
        self.appID = appID
        self.userID = userID
        self.scopes = scopes
        self.expiresIn = expiresIn
    }

    enum CodingKeys: String, CodingKey {
        case portalID = "portalId", appID = "appId", userID = "userId", scopes, expiresIn
    }
}
