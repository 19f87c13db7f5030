import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// The small data set `hubsignal dev` posts to itself through the Segment-compatible API, so that the read models,
/// both sandboxes and `hubsignal status` show something at once: two people, a company one of them belongs to, and an
/// order. The messages have fixed ids, so posting them again on the next start stores nothing twice.
enum DemoData {
    static let batch = #"""
        {"batch": [
          {"type": "identify", "messageId": "dev-demo-1", "userId": "grace",
           "traits": {"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper", "plan": "pro"}},
          {"type": "identify", "messageId": "dev-demo-2", "userId": "linus",
           "traits": {"email": "linus@example.com", "firstName": "Linus", "plan": "free"}},
          {"type": "group", "messageId": "dev-demo-3", "userId": "grace", "groupId": "acme-inc",
           "traits": {"name": "Acme Inc", "domain": "acme.example", "industry": "Software"}},
          {"type": "track", "messageId": "dev-demo-4", "userId": "grace", "event": "Order Completed",
           "properties": {"order_id": "o-1001", "total": 42.5, "currency": "EUR"}}
        ]}
        """#

    /// Posts the batch to `/v1/batch` on this machine; a failure is logged, never fatal.
    static func post(port: Int, writeKey: String, logger: Logger) async {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/batch")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Basic " + Data((writeKey + ":").utf8).base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: batch))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 16)
            guard response.status == .ok else {
                logger.warning("the demo data was refused", metadata: ["status": "\(response.status.code)"])
                return
            }
            FileHandle.standardOutput.write(
                Data("Demo data posted: grace and linus, the company acme-inc, an order (psql: SELECT * FROM contacts).\n".utf8))
        } catch {
            logger.warning("posting the demo data failed", metadata: ["error": "\(error)"])
        }
    }
}
