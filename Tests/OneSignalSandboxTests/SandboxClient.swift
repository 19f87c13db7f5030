import Domain
import AsyncHTTPClient
import Foundation
import Ingestion
import NIOCore
import NIOHTTP1
import OneSignalSandbox

/// The apps the tests use.
enum TestApps {
    static let a = OneSignalSandbox.Configuration.App(
        id: "8250eaf6-1a58-489e-b136-7c74a864b434", apiKey: "os_v2_app_key_a", tagLimit: 3, name: "App A")
    static let b = OneSignalSandbox.Configuration.App(
        id: "1db1662c-7609-4a90-b0ad-15b45407d628", apiKey: "os_v2_app_key_b", tagLimit: 10, name: "App B")

    /// Both apps, no rate limits unless given.
    static func configuration(rateLimits: OneSignalSandbox.RateLimits = .disabled) -> OneSignalSandbox.Configuration {
        OneSignalSandbox.Configuration(apps: [a, b], rateLimits: rateLimits)
    }
}

/// An answer of the sandbox.
struct Answer {
    let status: Int
    let headers: HTTPHeaders
    let text: String

    /// The body parsed as JSON.
    var json: JSONValue {
        (try? JSONValue.parse(Array(text.utf8))) ?? .null
    }
}

/// Talks to a started sandbox over real HTTP, as a OneSignal client would.
struct SandboxClient {
    let baseURL: URL

    /// Sends `method path` with `body` (JSON text, as `contentType`) and `Authorization: <authorization>` (none when
    /// `nil`).
    func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, authorization: String? = "Key \(TestApps.a.apiKey)",
        contentType: String? = "application/json; charset=utf-8"
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL.absoluteString + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: buffer))
    }
}

/// Runs `body` with a started sandbox and a client for it, and stops the sandbox afterwards.
func withSandbox(
    _ configuration: OneSignalSandbox.Configuration = TestApps.configuration(),
    _ body: (OneSignalSandbox, SandboxClient) async throws -> Void
) async throws {
    let sandbox = OneSignalSandbox(configuration: configuration)
    try await sandbox.start()
    do {
        guard let baseURL = sandbox.baseURL else { throw CancellationError() }
        try await body(sandbox, SandboxClient(baseURL: baseURL))
    } catch {
        await sandbox.stop()
        throw error
    }
    await sandbox.stop()
}

/// Paths of app A.
enum Paths {
    static func users(_ app: String = TestApps.a.id) -> String { "/apps/\(app)/users" }
    static func user(_ externalID: String, app: String = TestApps.a.id) -> String {
        "/apps/\(app)/users/by/external_id/\(externalID)"
    }
}

/// `text` parsed as JSON (`.null` if it is not JSON).
func json(_ text: String) -> JSONValue {
    (try? JSONValue.parse(Array(text.utf8))) ?? .null
}
