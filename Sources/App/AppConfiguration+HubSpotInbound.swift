extension AppConfiguration {
    /// The variables HubSpot's webhooks and workflow actions need besides `HUBSPOT_CLIENT_SECRET`, among those not set:
    /// `HUBSIGNAL_PUBLIC_URL` (the URL the signatures cover) and `HUBSPOT_PORTAL_ID` (the one portal accepted; not
    /// needed with OAuth installs, where the install binds the portal).
    public var hubSpotInboundMissing: [String] {
        (publicURL == nil ? ["HUBSIGNAL_PUBLIC_URL"] : [])
            + (hubSpotPortalID == nil && !hubSpotOAuthIsConfigured ? ["HUBSPOT_PORTAL_ID"] : [])
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
        if hubSpotPortalID == nil && !hubSpotOAuthIsConfigured {
            reasons.append(
                "HUBSPOT_PORTAL_ID is not set (every HubSpot account that installs the app could send them: set it to your "
                    + "account's Hub ID)")
        }
        guard !reasons.isEmpty else { return nil }
        return "HubSpot webhooks and workflow actions are refused: " + reasons.joined(separator: "; ")
    }
}

extension AppConfiguration {
    /// Whether OAuth installs are on: `HUBSPOT_CLIENT_ID`, `HUBSPOT_CLIENT_SECRET`, `HUBSIGNAL_TOKEN_KEY` and
    /// `HUBSIGNAL_PUBLIC_URL` are all set. The HubSpot sync then uses the installation's tokens, unless
    /// `HUBSPOT_ACCESS_TOKEN` is set (the static token wins).
    public var hubSpotOAuthIsConfigured: Bool {
        hubSpotOAuthMissing.isEmpty
    }

    /// The variables OAuth installs need that are not set, when `HUBSPOT_CLIENT_ID` is set (empty otherwise).
    public var hubSpotOAuthMissing: [String] {
        guard hubSpotClientID != nil else { return ["HUBSPOT_CLIENT_ID"] }
        return (hubSpotClientSecret == nil ? ["HUBSPOT_CLIENT_SECRET"] : []) + (tokenKey == nil ? ["HUBSIGNAL_TOKEN_KEY"] : [])
            + (publicURL == nil ? ["HUBSIGNAL_PUBLIC_URL"] : [])
    }

    /// Whether HubSignal has HubSpot credentials to write with: a static token, or OAuth installs.
    public var hasHubSpotCredentials: Bool {
        hubSpotAccessToken != nil || hubSpotOAuthIsConfigured
    }

    /// OAuth's redirect URL: `HUBSIGNAL_PUBLIC_URL` + `/hubspot/oauth/callback` (list it in the app's `redirectUrls`).
    public var hubSpotOAuthRedirectURL: String? {
        publicURL.map { ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/hubspot/oauth/callback" }
    }
}
