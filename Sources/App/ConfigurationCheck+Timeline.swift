import Delivery
import Foundation
import HubSpot
import Mapping

extension ConfigurationCheck {
    /// With `hubspot_timeline: { mode: timeline_event }`: a warning when the app is static-auth (it cannot own a
    /// template, so notes are written instead, see ``TimelineWriting``); with OAuth, whether the template exists in the
    /// app, read with `HUBSPOT_APP_ID` and `HUBSPOT_DEVELOPER_API_KEY` from `environment` (a warning when they are not
    /// set). Nothing for the other modes, or when the HubSpot sync is off. `serve` logs what is not `ok` at start-up.
    func timeline() async -> [Finding] {
        let subject = "hubspot timeline"
        guard configuration.hubSpotAccessToken != nil || configuration.hubSpotClientID != nil,
            let mapping = try? HubSignalService.loadMapping(configuration, logger: logger), mapping.timeline.mode == .timelineEvent,
            let templateID = mapping.timeline.templateID
        else { return [] }
        let usesOAuth = configuration.hubSpotAccessToken == nil
        if let notice = TimelineWriting.notice(for: mapping.timeline, usesOAuth: usesOAuth) {
            return [Finding(level: .warning, subject: subject, message: notice)]
        }
        guard let appID = variables["HUBSPOT_APP_ID"], !appID.isEmpty, let key = variables["HUBSPOT_DEVELOPER_API_KEY"], !key.isEmpty
        else {
            return [
                Finding(
                    level: .warning, subject: subject,
                    message: "event template \(templateID) not checked: set HUBSPOT_APP_ID and HUBSPOT_DEVELOPER_API_KEY to check it")
            ]
        }
        let client = HubSpotClient(
            configuration: .init(baseURL: configuration.hubSpotBaseURL, accessToken: "", timeout: Self.timeout),
            rateLimiter: HubSpotRateLimiter(limit: configuration.hubSpotRateLimit), logger: logger)
        do {
            guard let template = try await client.timelineTemplate(appID: appID, templateID: templateID, developerAPIKey: key) else {
                return [
                    Finding(
                        level: .problem, subject: subject,
                        message: "app \(appID) has no event template \(templateID): every timeline entry would be refused; "
                            + "name an existing template in hubspot_timeline.template_id, or use mode note or behavioral_event")
                ]
            }
            return [Finding(level: .ok, subject: subject, message: "event template \(templateID) (\(template.name)) of app \(appID)")]
        } catch let error as HubSpotError {
            return [Finding(level: .problem, subject: subject, message: "HubSpot refused reading template \(templateID) of app \(appID): \(error.reason)")]
        } catch {
            return [Finding(level: .problem, subject: subject, message: "\(configuration.hubSpotBaseURL) unreachable: \(error)")]
        }
    }
}
