extension AppConfiguration {
    /// The variables HubSpot's webhooks and workflow actions need besides `HUBSPOT_CLIENT_SECRET`, among those not set:
    /// `HUBSIGNAL_PUBLIC_URL` (the URL the signatures cover) and `HUBSPOT_PORTAL_ID` (the one portal accepted).
    public var hubSpotInboundMissing: [String] {
        (publicURL == nil ? ["HUBSIGNAL_PUBLIC_URL"] : []) + (hubSpotPortalID == nil ? ["HUBSPOT_PORTAL_ID"] : [])
    }

    /// Why HubSpot's webhooks and workflow actions are refused with this configuration (what `serve` says at start-up),
    /// or `nil` when they are accepted: `HUBSPOT_CLIENT_SECRET`, `HUBSIGNAL_PUBLIC_URL` and `HUBSPOT_PORTAL_ID` all set.
    public var hubSpotInboundRefusal: String? {
        guard hubSpotClientSecret != nil else {
            return "HUBSPOT_CLIENT_SECRET is not set: HubSpot webhooks and workflow actions are refused"
        }
        var reasons: [String] = []
        if publicURL == nil {
            reasons.append(
                "HUBSIGNAL_PUBLIC_URL is not set (HubSpot's signatures cover the URL HubSpot calls, which HubSignal never takes "
                    + "from request headers: set it to that URL, e.g. https://hubsignal.example.com)")
        }
        if hubSpotPortalID == nil {
            reasons.append(
                "HUBSPOT_PORTAL_ID is not set (every HubSpot account that installs the app could send them: set it to your "
                    + "account's Hub ID)")
        }
        guard !reasons.isEmpty else { return nil }
        return "HubSpot webhooks and workflow actions are refused: " + reasons.joined(separator: "; ")
    }
}
