import Domain
import Foundation
import Operations
import Testing

/// How `hubsignal events` shows a workflow notification about to be sent: its channel when it is not push, and the
/// text as sent (the message, or an email's subject).
@Suite struct NotificationSummaryTests {
    private func summary(_ request: OneSignalNotificationRequested.Request) throws -> String {
        let payload = OneSignalNotificationRequested(callbackID: "ap-1", app: "main", hubSpotObjectID: "501", request: request)
        let json = try JSONValue.parse(Array(try JSONEncoder().encode(payload)))
        return ContactAuditTrail.summary(type: .oneSignalNotificationRequested, payload: json)
    }

    @Test func pushShowsTheMessageEmailShowsItsChannelAndSubject() throws {
        let push = try summary(.init(externalID: "u1", idempotencyKey: "k", targetChannel: "push", content: "Hi Ada"))
        #expect(push == "to external id u1; “Hi Ada”; callback ap-1")
        let email = try summary(
            .init(externalID: "u1", idempotencyKey: "k", targetChannel: "email", emailSubject: "Welcome, Ada", emailBody: "<p>Hi</p>"))
        #expect(email == "to external id u1; by email; “Welcome, Ada”; callback ap-1")
    }
}
