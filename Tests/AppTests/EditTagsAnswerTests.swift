import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
import TestSupport

/// What `POST /hubspot/actions/edit-tags` answers HubSpot: `BLOCK` when HubSignal completes actions through HubSpot's
/// callback API (HubSpot credentials and a OneSignal app), so the workflow waits for the real outcome; `SUCCESS` only
/// when it cannot complete them.
@Suite struct EditTagsAnswerTests {
    static let body = #"{"callbackId":"ap-block-1","origin":{"portalId":27356661},"object":{"objectId":9,"objectType":"CONTACT"},"inputFields":{"tags":"{\"vip\":\"1\"}"}}"#
    static let path = "/hubspot/actions/edit-tags"

    func answer(completing: Bool) async throws -> [String: String]? {
        let server = WebhookAPITests()
        let state = Output()
        try await server.withServer({ configuration in
            if completing {
                configuration.hubSpotAccessToken = "pat-na1-test-token"
                configuration.oneSignalAppID = "8250eaf6-1a58-489e-b136-7c74a864b434"
                configuration.oneSignalAPIKey = "os_v2_app_test_key"
            }
        }) { client, _ in
            try await client.execute(
                uri: Self.path, method: .post, headers: WebhookAPITests.signedV3(Self.body, path: Self.path), body: ByteBuffer(string: Self.body)
            ) { response in
                #expect(response.status == .ok)
                let object = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: [String: String]]
                state.fields.withLock { $0 = object?["outputFields"] }
            }
        }
        return state.fields.withLock { $0 }
    }

    /// The answer's output fields, set by the request's handler.
    final class Output: Sendable {
        let fields = Mutex<[String: String]?>(nil)
    }

    @Test func blocksUntilOneSignalAnsweredWhenHubSignalCanComplete() async throws {
        #expect(try await answer(completing: true) == ["hs_execution_state": "BLOCK", "hs_expiration_duration": "P1D"])
    }

    @Test func succeedsAtOnceWhenHubSignalCannotComplete() async throws {
        #expect(try await answer(completing: false) == ["hs_execution_state": "SUCCESS"])
    }
}
