import AsyncHTTPClient
import Foundation
import HubSpotSandbox
import NIOCore
import NIOHTTP1

let testToken = "pat-na1-11111111-2222-3333-4444-555555555555"

/// A response as the tests read it.
struct TestResponse {
    let status: Int
    let headers: HTTPHeaders
    let body: Data

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// Sends requests to a started sandbox over real HTTP.
struct TestClient {
    let baseURL: String
    var token: String? = testToken

    func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, token: String?? = .none, timeout: TimeAmount = .seconds(10)
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let bearer = token ?? self.token {
            request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return TestResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
    }

    func post(_ path: String, _ body: String) async throws -> TestResponse {
        try await send(.POST, path, body: body)
    }

    func get(_ path: String) async throws -> TestResponse {
        try await send(.GET, path)
    }
}

/// Runs `body` against a freshly started sandbox, then stops it.
func withSandbox(
    _ configuration: HubSpotSandbox.Configuration = .init(accessToken: testToken),
    _ body: (HubSpotSandbox, TestClient) async throws -> Void
) async throws {
    let sandbox = HubSpotSandbox(configuration: configuration)
    try await sandbox.start()
    do {
        try await body(sandbox, TestClient(baseURL: sandbox.baseURL))
    } catch {
        await sandbox.stop()
        throw error
    }
    await sandbox.stop()
}

/// `{"inputs":[…]}` of upserts by email.
func upsertBody(_ inputs: [(email: String, properties: [String: String])]) -> String {
    let items = inputs.map { input in
        let properties = input.properties.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        return "{\"idProperty\":\"email\",\"id\":\"\(input.email)\",\"properties\":{\(properties)}}"
    }
    return "{\"inputs\":[\(items.joined(separator: ","))]}"
}

extension Dictionary where Key == String, Value == Any {
    func array(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
    func object(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    func string(_ key: String) -> String? { self[key] as? String }
}
