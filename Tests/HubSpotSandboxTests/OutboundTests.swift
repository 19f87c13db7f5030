import Crypto
import Foundation
import HubSpotSandbox
import Hummingbird
import Ingestion
import SandboxKit
import Testing

@Suite("HubSpot sandbox: calls toward the app")
struct OutboundTests {
    /// A receiver that records requests and answers `status` with `body` (unless `faults` says otherwise).
    private func receiver(status: HTTPResponse.Status = .ok, body: String = "", faults: FaultPlan = FaultPlan())
        -> (SandboxServer, RequestLog)
    {
        let log = RequestLog()
        let router = Router(context: SandboxRequestContext.self)
        router.middlewares.add(RequestLogMiddleware(log: log))
        router.middlewares.add(FaultMiddleware(plan: faults))
        router.post("**") { _, _ in
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return (SandboxServer(router: router), log)
    }

    private func expectedV3(secret: String, uri: String, body: Data, timestamp: String) -> String {
        let message = Data("POST".utf8) + Data(uri.utf8) + body + Data(timestamp.utf8)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }

    @Test func webhookDeliveryCarriesAVerifiableV3Signature() async throws {
        let (server, log) = receiver(status: .noContent)
        let port = try await server.start()
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: testToken))
        let url = URL(string: "http://127.0.0.1:\(port)/webhooks/hubspot?tenant=a")!
        let event = HubSpotWebhookEvent(
            eventId: 3_418_880_613, subscriptionId: 1_859_972, portalId: 12_345_678, appId: 1_109_808, occurredAt: 1_663_842_379_678,
            subscriptionType: "contact.propertyChange", objectId: 512, propertyName: "email", propertyValue: "ada@example.com")
        let status = try await sandbox.deliverWebhook(events: [event], to: url, clientSecret: "s3cret")
        await server.stop()

        #expect(status == 204)
        let request = try #require(log.all.first)
        #expect(request.path == "/webhooks/hubspot")
        #expect(request.query == "tenant=a")
        let timestamp = try #require(request.header("X-HubSpot-Request-Timestamp"))
        #expect(abs(Double(timestamp)! / 1000 - Date().timeIntervalSince1970) < 60)
        #expect(request.header("X-HubSpot-Signature-v3") == expectedV3(secret: "s3cret", uri: url.absoluteString, body: request.body, timestamp: timestamp))
        #expect(request.header("X-HubSpot-Signature-v3") != expectedV3(secret: "other", uri: url.absoluteString, body: request.body, timestamp: timestamp))
        let events = try #require(try JSONSerialization.jsonObject(with: request.body) as? [[String: Any]])
        #expect(events.count == 1)
        #expect(events.first?["subscriptionType"] as? String == "contact.propertyChange")
        #expect(events.first?["objectId"] as? Int == 512)
        #expect(events.first?["changeFlag"] == nil)
    }

    @Test func workflowActionCallIsSignedV2AndV3() async throws {
        let (server, log) = receiver(body: #"{"outputFields":{"hs_execution_state":"SUCCESS"}}"#)
        let port = try await server.start()
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: testToken))
        let url = URL(string: "http://127.0.0.1:\(port)/hubspot/actions/send-notification")!
        let response = try await sandbox.callWorkflowAction(
            url: url, callbackId: "ap-12345678-1-3-0", objectId: 512, inputFields: ["message": "hi"], clientSecret: "s3cret")
        await server.stop()

        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self).contains("SUCCESS"))
        let request = try #require(log.all.first)
        let payload = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(payload["callbackId"] as? String == "ap-12345678-1-3-0")
        #expect((payload["inputFields"] as? [String: String]) == ["message": "hi"])
        #expect((payload["object"] as? [String: Any])?["objectId"] as? Int == 512)
        #expect((payload["origin"] as? [String: Any])?["portalId"] as? Int == 12_345_678)
        #expect(request.header("X-HubSpot-Signature-Version") == "v2")
        let v2 = SHA256.hash(data: Data("s3cretPOST\(url.absoluteString)".utf8) + request.body).map { String(format: "%02x", $0) }.joined()
        #expect(request.header("X-HubSpot-Signature") == v2)
        let timestamp = try #require(request.header("X-HubSpot-Request-Timestamp"))
        #expect(request.header("X-HubSpot-Signature-v3") == expectedV3(secret: "s3cret", uri: url.absoluteString, body: request.body, timestamp: timestamp))
    }

    @Test func signerMatchesHubSpotsPublishedVectors() {
        let secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
        let body = #"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#
        #expect(HubSpotSigner.v1(clientSecret: secret, body: Data(body.utf8)) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de")
        #expect(
            HubSpotSigner.v2(clientSecret: secret, method: "GET", uri: "https://www.example.com/webhook_uri", body: Data())
                == "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e")
    }

    @Test func webhookRetriesOn5xxAndConnectionErrorsButNotOn4xx() async throws {
        let faults = FaultPlan()
        faults.inject(.status(503, body: nil, headers: []))
        faults.inject(.dropConnection(afterHandling: false))
        let (server, log) = receiver(faults: faults)
        let port = try await server.start()
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: testToken))
        let url = URL(string: "http://127.0.0.1:\(port)/webhooks/hubspot")!
        let event = HubSpotWebhookEvent(eventId: 1, portalId: 12_345_678, occurredAt: 1_700_000_000_000, subscriptionType: "contact.creation", objectId: 7)
        let attempts = await sandbox.deliverWebhookWithRetries(
            events: [event], to: url, clientSecret: "s3cret", initialBackoff: .milliseconds(10))
        #expect(attempts.map(\.status) == [503, nil, 200])
        #expect(attempts.map(\.attemptNumber) == [0, 1, 2])
        let numbers = log.all.compactMap { request in
            (try? JSONSerialization.jsonObject(with: request.body) as? [[String: Any]])?.first?["attemptNumber"] as? Int
        }
        #expect(numbers == [0, 1, 2])

        faults.inject(.status(400, body: nil, headers: []))
        let refused = await sandbox.deliverWebhookWithRetries(
            events: [event], to: url, clientSecret: "s3cret", initialBackoff: .milliseconds(10))
        #expect(refused.map(\.status) == [400])
        await server.stop()
    }

    @Test func signaturesVerifyWithHubSignalsOwnVerifier() async throws {
        let (server, log) = receiver()
        let port = try await server.start()
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: testToken))
        let webhookURL = URL(string: "http://127.0.0.1:\(port)/webhooks/hubspot?owner=ada%40example.com")!
        let event = HubSpotWebhookEvent(eventId: 9, portalId: 12_345_678, occurredAt: 1_700_000_000_000, subscriptionType: "contact.deletion", objectId: 3)
        #expect(try await sandbox.deliverWebhook(events: [event], to: webhookURL, clientSecret: "s3cret") == 200)
        let actionURL = URL(string: "http://127.0.0.1:\(port)/hubspot/actions/edit-tags")!
        let action = try await sandbox.callWorkflowAction(
            url: actionURL, callbackId: "ap-1", objectId: 3, inputFields: ["tag": "vip"], clientSecret: "s3cret")
        #expect(action.status == 200)
        await server.stop()

        let requests = log.all
        #expect(requests.count == 2)
        for (request, url) in zip(requests, [webhookURL, actionURL]) {
            let headers = HubSpotSignature.Headers(
                signatureV3: request.header("X-HubSpot-Signature-v3"), timestamp: request.header("X-HubSpot-Request-Timestamp"),
                signature: request.header("X-HubSpot-Signature"), version: request.header("X-HubSpot-Signature-Version"))
            let version = try HubSpotSignature.verify(
                headers: headers, secret: "s3cret", method: "POST", uri: url.absoluteString, body: Array(request.body), allowV2: true)
            #expect(version == "v3")
            #expect(throws: HubSpotSignature.Failure.self) {
                _ = try HubSpotSignature.verify(
                    headers: headers, secret: "wrong", method: "POST", uri: url.absoluteString, body: Array(request.body), allowV2: true)
            }
        }
        // The workflow action's v2 signature verifies on its own too.
        let v2Only = HubSpotSignature.Headers(
            signatureV3: nil, timestamp: nil, signature: requests[1].header("X-HubSpot-Signature"),
            version: requests[1].header("X-HubSpot-Signature-Version"))
        let version = try HubSpotSignature.verify(
            headers: v2Only, secret: "s3cret", method: "POST", uri: actionURL.absoluteString, body: Array(requests[1].body), allowV2: true)
        #expect(version == "v2")
    }
}
