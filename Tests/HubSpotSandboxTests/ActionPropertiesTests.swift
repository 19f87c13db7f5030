import Foundation
import HubSpotSandbox
import Hummingbird
import SandboxKit
import Testing

/// A workflow action definition's `objectRequestOptions`: HubSpot sends the enrolled object's values of the named
/// properties with each execution request, as `object.properties`.
@Suite("HubSpot sandbox: the enrolled object's properties in action requests")
struct ActionPropertiesTests {
    @Test func requestedPropertiesTravelWithTheCallAndOnlyThose() async throws {
        let log = RequestLog()
        let router = Router(context: SandboxRequestContext.self)
        router.middlewares.add(RequestLogMiddleware(log: log))
        router.post("**") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"outputFields":{"hs_execution_state":"SUCCESS"}}"#)))
        }
        let server = SandboxServer(router: router)
        let port = try await server.start()
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: testToken))
        let contact = try sandbox.seedObject(
            ofType: "contacts", properties: ["email": "ada@example.com", "firstname": "Ada", "jobtitle": "Engineer"])
        let url = URL(string: "http://127.0.0.1:\(port)/hubspot/actions/send-notification")!
        _ = try await sandbox.callWorkflowAction(
            url: url, callbackId: "ap-1", objectId: Int(contact.id)!, inputFields: ["content": "Hi {{ contact.firstname }}"],
            clientSecret: "s3cret", objectProperties: ["firstname", "lastname", "email"])
        _ = try await sandbox.callWorkflowAction(
            url: url, callbackId: "ap-2", objectId: Int(contact.id)!, inputFields: ["content": "Hi"], clientSecret: "s3cret")
        await server.stop()

        let requests = log.all
        #expect(requests.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: requests[0].body) as? [String: Any])
        let object = try #require(first["object"] as? [String: Any])
        // Asked-for values the contact has; `lastname` has none and `jobtitle` was not asked for.
        #expect(object["properties"] as? [String: String] == ["firstname": "Ada", "email": "ada@example.com"])
        let second = try #require(try JSONSerialization.jsonObject(with: requests[1].body) as? [String: Any])
        #expect((second["object"] as? [String: Any])?["properties"] == nil)
    }
}
