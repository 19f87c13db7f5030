import AsyncHTTPClient
import Foundation
import NIOCore

/// Acting like HubSpot toward an app: webhook deliveries and workflow-action calls, signed as HubSpot signs them.
extension HubSpotSandbox {
    /// An app's answer to an outbound call.
    public struct OutboundResponse: Sendable {
        /// The HTTP status.
        public let status: Int
        /// The response headers, as received.
        public let headers: [(String, String)]
        /// The response body.
        public let body: Data
    }

    /// POSTs `events` as one webhooks v3 delivery (a JSON array) to `url`, signed with v3 (`X-HubSpot-Signature-v3`,
    /// `X-HubSpot-Request-Timestamp`) and v1 (`X-HubSpot-Signature`, `X-HubSpot-Signature-Version: v1`); returns the
    /// status.
    public func deliverWebhook(
        events: [HubSpotWebhookEvent], to url: URL, clientSecret: String, timestamp: Date = Date(),
        timeout: Duration = .seconds(10)
    ) async throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let body = try encoder.encode(events)
        return try await deliverWebhook(body: body, to: url, clientSecret: clientSecret, timestamp: timestamp, timeout: timeout).status
    }

    /// Delivers `events` as HubSpot does, retrying with exponential backoff (from `initialBackoff`, doubling; a
    /// 429's `Retry-After` seconds when given) after connection errors, timeouts, 429 and 5xx, up to `maxAttempts`;
    /// each attempt is signed anew and its events carry its `attemptNumber`. Returns every attempt.
    public func deliverWebhookWithRetries(
        events: [HubSpotWebhookEvent], to url: URL, clientSecret: String, maxAttempts: Int = 10,
        initialBackoff: Duration = .seconds(1), timeout: Duration = .seconds(10)
    ) async -> [WebhookDeliveryAttempt] {
        var attempts: [WebhookDeliveryAttempt] = []
        var backoff = initialBackoff
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        for attemptNumber in 0..<max(1, maxAttempts) {
            var wait = backoff
            do {
                let numbered = events.map { event in
                    var event = event
                    event.attemptNumber = attemptNumber
                    return event
                }
                let response = try await deliverWebhook(
                    body: try encoder.encode(numbered), to: url, clientSecret: clientSecret, timeout: timeout)
                let attempt = WebhookDeliveryAttempt(attemptNumber: attemptNumber, status: response.status, error: nil)
                attempts.append(attempt)
                guard attempt.isRetryable else { return attempts }
                if response.status == 429,
                    let retryAfter = response.headers.first(where: { $0.0.lowercased() == "retry-after" }).flatMap({ Int($0.1) })
                {
                    wait = .seconds(retryAfter)
                }
            } catch {
                attempts.append(WebhookDeliveryAttempt(attemptNumber: attemptNumber, status: nil, error: "\(error)"))
            }
            if attemptNumber + 1 < maxAttempts {
                try? await Task.sleep(for: wait)
                if Task.isCancelled { return attempts }
            }
            backoff *= 2
        }
        return attempts
    }

    /// POSTs a raw webhook body (any JSON the test wants) to `url`, signed as ``deliverWebhook(events:to:clientSecret:timestamp:timeout:)``.
    public func deliverWebhook(
        body: Data, to url: URL, clientSecret: String, timestamp: Date = Date(), timeout: Duration = .seconds(10)
    ) async throws -> OutboundResponse {
        let stamp = String(Int64((timestamp.timeIntervalSince1970 * 1000).rounded()))
        let uri = url.absoluteString
        let headers = [
            ("X-HubSpot-Signature-v3", HubSpotSigner.v3(clientSecret: clientSecret, method: "POST", uri: uri, body: body, timestamp: stamp)),
            ("X-HubSpot-Request-Timestamp", stamp),
            ("X-HubSpot-Signature", HubSpotSigner.v1(clientSecret: clientSecret, body: body)),
            ("X-HubSpot-Signature-Version", "v1"),
            ("X-HubSpot-Timeout-Millis", "10000"),
        ]
        return try await post(body: body, to: url, headers: headers, timeout: timeout)
    }

    /// POSTs a custom workflow action execution (HubSpot's payload) to the action's `url`, signed with v2
    /// (`X-HubSpot-Signature`, `X-HubSpot-Signature-Version: v2`) and v3; returns the app's answer (its
    /// `outputFields`).
    ///
    /// `objectProperties` are the properties the action definition's `objectRequestOptions` names: the stored
    /// object's values of them are sent as `object.properties`, a property the object has no value for left out (the
    /// docs do not say how HubSpot sends an empty one; HubSignal reads absent, `null` and blank alike).
    public func callWorkflowAction(
        url: URL, callbackId: String, objectId: Int, objectType: String = "CONTACT", inputFields: [String: String],
        clientSecret: String, actionDefinitionID: Int = 201_903_771, workflowID: Int = 1_640_937_852,
        timestamp: Date = Date(), timeout: Duration = .seconds(10), objectProperties: [String] = []
    ) async throws -> OutboundResponse {
        let executionIndex: JSON = ["enrollmentId": .int(Int(timestamp.timeIntervalSince1970 * 1000)), "actionExecutionIndex": 0]
        let fields = JSON.object(JSONObject(inputFields.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))
        let payload: JSON = [
            "callbackId": .string(callbackId),
            "origin": [
                "portalId": .int(configuration.portalID), "actionDefinitionId": .int(actionDefinitionID),
                "actionDefinitionVersion": 1, "actionExecutionIndexIdentifier": executionIndex,
                "extensionDefinitionId": .int(actionDefinitionID), "extensionDefinitionVersionId": 1,
            ],
            "context": [
                "workflowId": .int(workflowID), "actionId": 1, "source": "WORKFLOWS",
                "actionExecutionIndexIdentifier": executionIndex,
            ],
            "object": .object(requestedObject(objectId: objectId, objectType: objectType, properties: objectProperties)),
            "fields": fields,
            "inputFields": fields,
        ]
        let body = payload.data
        let stamp = String(Int64((timestamp.timeIntervalSince1970 * 1000).rounded()))
        let uri = url.absoluteString
        let headers = [
            ("X-HubSpot-Signature", HubSpotSigner.v2(clientSecret: clientSecret, method: "POST", uri: uri, body: body)),
            ("X-HubSpot-Signature-Version", "v2"),
            ("X-HubSpot-Signature-v3", HubSpotSigner.v3(clientSecret: clientSecret, method: "POST", uri: uri, body: body, timestamp: stamp)),
            ("X-HubSpot-Request-Timestamp", stamp),
        ]
        return try await post(body: body, to: url, headers: headers, timeout: timeout)
    }

    /// An execution request's `object`: its id and type, and `properties` when any are requested.
    private func requestedObject(objectId: Int, objectType: String, properties: [String]) -> JSONObject {
        var object: JSONObject = ["objectId": .int(objectId), "objectType": .string(objectType)]
        guard !properties.isEmpty else { return object }
        let record = self.object(ofType: objectType, id: String(objectId))
        let values = properties.compactMap { name in record?[name].map { (name, JSON.string($0)) } }
        object["properties"] = .object(JSONObject(values))
        return object
    }

    func post(body: Data, to url: URL, headers: [(String, String)], timeout: Duration) async throws -> OutboundResponse {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: hubsignal-sandbox)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let components = timeout.components
        let response = try await HTTPClient.shared.execute(
            request, timeout: .milliseconds(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000))
        let received = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return OutboundResponse(
            status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
            body: Data(received.readableBytesView))
    }
}
