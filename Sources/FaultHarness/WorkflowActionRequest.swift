import Foundation
import Ingestion

/// A HubSpot workflow "Send OneSignal notification" action call, as HubSpot sends it to
/// `/hubspot/actions/send-notification`: its JSON body and its v3 signature headers.
public struct WorkflowActionRequest: Sendable {
    /// The path HubSignal serves the action on.
    public static let path = "/hubspot/actions/send-notification"

    /// The portal the harnesses' requests come from (the HubSpot sandbox's default): serve them with this
    /// `HUBSPOT_PORTAL_ID`, or HubSignal refuses them as another portal's.
    public static let portalID = 12_345_678

    /// The body: a push "hello <externalID>" to `externalID`, for HubSpot object `objectID`, from `portalID`.
    public var body: String

    public init(callbackID: String, objectID: Int, externalID: String, portalID: Int = WorkflowActionRequest.portalID) {
        body =
            #"{"callbackId":"\#(callbackID)","origin":{"portalId":\#(portalID)},"#
            + #""object":{"objectId":\#(objectID),"objectType":"CONTACT"},"#
            + #""inputFields":{"content":"hello \#(externalID)","external_id":"\#(externalID)"}}"#
    }

    /// `X-HubSpot-Signature-v3` and `X-HubSpot-Request-Timestamp` for this body, signed now (HubSpot signs each
    /// attempt afresh) with the app's client secret, over the public URL HubSpot calls.
    public func signatureHeaders(clientSecret: String, publicURL: String) -> [(name: String, value: String)] {
        let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
        let signature = HubSpotSignature.v3(
            secret: clientSecret, method: "POST", uri: publicURL + Self.path, body: Array(body.utf8), timestamp: timestamp)
        return [("X-HubSpot-Signature-v3", signature), ("X-HubSpot-Request-Timestamp", timestamp)]
    }
}
