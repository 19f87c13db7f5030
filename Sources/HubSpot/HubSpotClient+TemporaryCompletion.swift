import Foundation
// Temporary until the workflow-actions branch lands (it brings HubSpotClient+Automation.swift).
extension HubSpotClient {
    public func completeWorkflowAction(callbackID: String, outputFields: [String: String]) async throws {
        struct Body: Encodable { var outputFields: [String: String] }
        _ = try await send(
            .POST, "/automation/v4/actions/callbacks/\(callbackID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? callbackID)/complete",
            body: Body(outputFields: outputFields))
    }
}
