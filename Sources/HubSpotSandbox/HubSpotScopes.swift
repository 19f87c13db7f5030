/// The OAuth / private-app scope each endpoint needs, and HubSpot's 403 `MISSING_SCOPES` answer.
enum HubSpotScopes {
    /// The scope family of a path's object type: `contacts`, `companies` or `custom`. Notes use the contact scopes.
    private static func family(_ objectType: Substring) -> String {
        switch objectType.lowercased() {
        case "contacts", "contact", "0-1", "notes", "note", "0-46": "contacts"
        case "companies", "company", "0-2": "companies"
        default: "custom"
        }
    }

    /// The scope a request needs, or `nil` when the endpoint is unknown (it answers 404 anyway).
    static func required(method: String, path: String) -> String? {
        let segments = path.split(separator: "/")
        guard segments.count >= 3 else { return nil }
        let reads = method == "GET"
        switch (segments[0], segments[1], segments[2]) {
        case ("crm", "v3", "objects") where segments.count >= 4:
            let isRead = reads || (segments.count == 6 && segments[4] == "batch" && segments[5] == "read")
                || (segments.count == 5 && segments[4] == "search")
            return "crm.objects.\(family(segments[3])).\(isRead ? "read" : "write")"
        case ("crm", "v3", "properties") where segments.count >= 4:
            let isRead = reads || (segments.count == 6 && segments[4] == "batch" && segments[5] == "read")
            return "crm.schemas.\(family(segments[3])).\(isRead ? "read" : "write")"
        case ("crm", "v4", "objects") where segments.count >= 4:
            return "crm.objects.\(family(segments[3])).\(reads ? "read" : "write")"
        case ("crm", "v3", "schemas"):
            return reads ? "crm.schemas.custom.read" : "crm.schemas.custom.write"
        case ("crm", "v4", "associations") where segments.count == 6 && segments[5] == "labels",
            ("crm", "associations", "v4") where segments.count == 6 && segments[5] == "labels":
            return "crm.schemas.\(family(segments[3])).\(reads ? "read" : "write")"
        case ("crm", "v4", "associations") where segments.count >= 7:
            return "crm.objects.\(family(segments[3])).\(segments[6] == "read" ? "read" : "write")"
        case ("events", "v3", "send"):
            return "analytics.behavioral_events.send"
        case ("events", "v3", "event-definitions"):
            return "behavioral_events.event_definitions.read_write"
        case ("integrators", "timeline", _):
            return "timeline"
        case ("automation", "v4", "actions"):
            return "automation"
        default:
            return nil
        }
    }

    /// Whether a path is an app-level endpoint, authenticated with the developer account's API key (`?hapikey=`) and
    /// never with an account's token: the action definitions `/automation/v4/actions/{appId}[/{definitionId}]`
    /// (HubSpot's `developer_hapikey` security scheme), unlike the callbacks, which take the token.
    static func isDeveloperEndpoint(path: String) -> Bool {
        let segments = path.split(separator: "/")
        if (5...6).contains(segments.count), segments[0] == "integrators", segments[1] == "timeline", segments[2] == "v3",
            segments[4] == "event-templates"
        {
            return true  // timeline event templates (TL-v3's developer_hapikey)
        }
        return (4...5).contains(segments.count) && segments[0] == "automation" && segments[1] == "v4" && segments[2] == "actions"
            && segments[3] != "callbacks"
    }

    /// 403 `MISSING_SCOPES` naming the scope.
    static func missing(_ scope: String) -> HubSpotError {
        var error = HubSpotError(
            status: 403, category: "MISSING_SCOPES",
            message: "This app hasn't been granted all required scopes to make this call. "
                + "Read more about required scopes here: https://developers.hubspot.com/scopes.")
        error.extra = [
            "errors": [
                [
                    "message": "One or more of the following scopes are required.",
                    "context": ["requiredGranularScopes": [.string(scope)]],
                ]
            ],
            "links": ["scopes": "https://developers.hubspot.com/scopes"],
        ]
        return error
    }
}
