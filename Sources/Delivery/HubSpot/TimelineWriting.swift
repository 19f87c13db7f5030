import Mapping

/// Whether the `timeline_event` mode of `hubspot_timeline:` can work for the kind of app HubSignal runs as, and what
/// HubSignal writes instead when it cannot.
///
/// Timeline events v3 need an event template, and templates belong to a public (OAuth) app that already had v1/v3
/// timeline events: TL-v3's create-template operation says requests fail for an app without them, and a static-auth
/// (single-account) project app has no templates at all. A static token therefore means notes are written instead (see
/// docs/hubspot-sync.md, "Timeline entries").
public enum TimelineWriting {
    /// Whether timeline v3 events can be written with this authentication: only an OAuth app can own a template.
    public static func canWriteTimelineEvents(usesOAuth: Bool) -> Bool { usesOAuth }

    /// What to say at start-up and in `hubsignal config check` about `rules`, or `nil` when there is nothing to say.
    public static func notice(for rules: TimelineRules, usesOAuth: Bool) -> String? {
        guard rules.mode == .timelineEvent, !canWriteTimelineEvents(usesOAuth: usesOAuth) else { return nil }
        return "hubspot_timeline.mode is timeline_event, but a static-auth app (HUBSPOT_ACCESS_TOKEN) cannot own a timeline "
            + "event template (timeline v3 is for public OAuth apps that already have templates): HubSignal writes notes "
            + "instead; set mode to note or behavioral_event, or install through OAuth"
    }
}
