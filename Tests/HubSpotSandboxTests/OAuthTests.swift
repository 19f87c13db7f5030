import AsyncHTTPClient
import Foundation
import HubSpotSandbox
import NIOCore
import NIOHTTP1
import Testing

/// The sandbox's OAuth server and what its tokens may do, each rule with a request a lenient sandbox would accept.
@Suite struct OAuthTests {
    static let redirect = "https://hubsignal.example.com/hubspot/oauth/callback"
    static let completion = #"{"outputFields":{"hs_execution_state":"SUCCESS"},"typedOutputs":{"hs_execution_state":"SUCCESS"}}"#

    static var configuration: HubSpotSandbox.Configuration {
        var configuration = HubSpotSandbox.Configuration(accessToken: testToken, portalID: 4_400_001)
        configuration.oauth = .init(clientID: "cid", clientSecret: "csecret", appID: 777, redirectURLs: [redirect])
        return configuration
    }

    /// POSTs a form body (or the same fields in the query, when `inQuery`).
    static func form(_ base: String, _ path: String, _ fields: [String: String], inQuery: Bool = false) async throws -> TestResponse {
        let text = fields.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
        var request = HTTPClientRequest(url: base + path + (inQuery ? "?" + text : ""))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if !inQuery { request.body = .bytes(ByteBuffer(string: text)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 1024 * 1024)
        return TestResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
    }

    /// An authorization code, as the browser brings it back to the redirect URL.
    static func code(_ base: String, scope: String = "crm.objects.contacts.write automation oauth", state: String = "s1") async throws -> String {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let query = "client_id=cid&scope=\(scope.replacingOccurrences(of: " ", with: "%20"))&redirect_uri=\(redirect.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&state=\(state)"
        let response = try await http.execute(HTTPClientRequest(url: base + "/oauth/authorize?" + query), timeout: .seconds(10))
        try await http.shutdown()
        #expect(response.status.code == 302)
        let location = URLComponents(string: response.headers.first(name: "Location") ?? "")
        #expect(location?.queryItems?.first { $0.name == "state" }?.value == state)
        return try #require(location?.queryItems?.first { $0.name == "code" }?.value)
    }

    static func exchange(_ base: String, _ code: String, redirect: String = redirect) async throws -> TestResponse {
        try await form(
            base, "/oauth/v3/token",
            ["grant_type": "authorization_code", "client_id": "cid", "client_secret": "csecret", "redirect_uri": redirect, "code": code])
    }

    @Test func theCodeGrantIssuesTokensForTheInstallingPortalOnce() async throws {
        try await withSandbox(Self.configuration) { sandbox, _ in
            let code = try await Self.code(sandbox.baseURL)
            let answer = try await Self.exchange(sandbox.baseURL, code)
            #expect(answer.status == 200)
            #expect(answer.json["hub_id"] as? Int == 4_400_001)
            #expect(answer.json["expires_in"] as? Int == 1800)
            #expect(answer.json["token_type"] as? String == "bearer")
            #expect((answer.json["refresh_token"] as? String)?.isEmpty == false)
            // A code is used once.
            let again = try await Self.exchange(sandbox.baseURL, code)
            #expect(again.status == 400)
            #expect(again.json["error"] as? String == "invalid_grant")
            // A code bound to another redirect URL is refused.
            let other = try await Self.exchange(sandbox.baseURL, try await Self.code(sandbox.baseURL), redirect: "https://evil.example.com/cb")
            #expect(other.json["error"] as? String == "invalid_grant")
        }
    }

    @Test func parametersInTheQueryOrAWrongSecretAreRefused() async throws {
        try await withSandbox(Self.configuration) { sandbox, _ in
            let code = try await Self.code(sandbox.baseURL)
            let fields = ["grant_type": "authorization_code", "client_id": "cid", "client_secret": "csecret", "redirect_uri": Self.redirect, "code": code]
            let inQuery = try await Self.form(sandbox.baseURL, "/oauth/v3/token", fields, inQuery: true)
            #expect(inQuery.status == 400)
            #expect(inQuery.json["error"] as? String == "invalid_request")
            var wrong = fields
            wrong["client_secret"] = "guess"
            let refused = try await Self.form(sandbox.baseURL, "/oauth/v3/token", wrong)
            #expect(refused.status == 401)
            #expect(refused.json["error"] as? String == "invalid_client")
            #expect(refused.json["category"] as? String != nil)
            let unsupported = try await Self.form(sandbox.baseURL, "/oauth/v3/token", ["grant_type": "password", "client_id": "cid", "client_secret": "csecret"])
            #expect(unsupported.json["error"] as? String == "unsupported_grant_type")
            // v1 is not served: HubSignal must use v3.
            let v1 = try await Self.form(sandbox.baseURL, "/oauth/v1/token", fields)
            #expect(v1.status == 404)
        }
    }

    @Test func anAuthorizeLinkWithAnUnknownRedirectIsRefused() async throws {
        try await withSandbox(Self.configuration) { sandbox, client in
            let response = try await client.send(
                .GET, "/oauth/authorize?client_id=cid&scope=oauth&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb", token: .some(nil))
            #expect(response.status == 400)
        }
    }

    @Test func expiredTokensAre401AndRefreshIssuesANewOne() async throws {
        try await withSandbox(Self.configuration) { sandbox, client in
            let tokens = try await Self.exchange(sandbox.baseURL, try await Self.code(sandbox.baseURL))
            let access = try #require(tokens.json["access_token"] as? String)
            let refresh = try #require(tokens.json["refresh_token"] as? String)
            #expect(try await client.send(.GET, "/crm/v3/properties/contacts", token: .some(access)).status == 403)  // scope
            let upsert = try await client.send(.POST, "/crm/v3/objects/contacts/batch/upsert", body: upsertBody([("a@example.com", [:])]), token: .some(access))
            #expect(upsert.status == 200)
            sandbox.expireOAuthAccessTokens()
            let expired = try await client.send(.POST, "/crm/v3/objects/contacts/batch/upsert", body: upsertBody([("b@example.com", [:])]), token: .some(access))
            #expect(expired.status == 401)
            #expect(expired.json["category"] as? String == "EXPIRED_AUTHENTICATION")
            let refreshed = try await Self.form(
                sandbox.baseURL, "/oauth/v3/token",
                ["grant_type": "refresh_token", "client_id": "cid", "client_secret": "csecret", "refresh_token": refresh])
            #expect(refreshed.status == 200)
            let newAccess = try #require(refreshed.json["access_token"] as? String)
            #expect(newAccess != access)
            #expect(sandbox.oauthRefreshes == 1)
            #expect(try await client.send(.POST, "/crm/v3/objects/contacts/batch/upsert", body: upsertBody([("b@example.com", [:])]), token: .some(newAccess)).status == 200)
            // Revoked: refreshing fails with invalid_grant and the access tokens stop working.
            sandbox.revokeOAuthRefreshToken(refresh)
            let revoked = try await Self.form(
                sandbox.baseURL, "/oauth/v3/token",
                ["grant_type": "refresh_token", "client_id": "cid", "client_secret": "csecret", "refresh_token": refresh])
            #expect(revoked.status == 400)
            #expect(revoked.json["error"] as? String == "invalid_grant")
            #expect(try await client.send(.POST, "/crm/v3/objects/contacts/batch/upsert", body: upsertBody([("c@example.com", [:])]), token: .some(newAccess)).status == 401)
        }
    }

    @Test func introspectionNamesThePortalAppAndScopes() async throws {
        try await withSandbox(Self.configuration) { sandbox, _ in
            let tokens = try await Self.exchange(sandbox.baseURL, try await Self.code(sandbox.baseURL))
            let access = try #require(tokens.json["access_token"] as? String)
            let info = try await Self.form(
                sandbox.baseURL, "/oauth/v3/token/introspect", ["client_id": "cid", "client_secret": "csecret", "token": access])
            #expect(info.status == 200)
            #expect(info.json["active"] as? Bool == true)
            #expect(info.json["hub_id"] as? Int == 4_400_001)
            #expect(info.json["app_id"] as? Int == 777)
            #expect(Set(info.json["scopes"] as? [String] ?? []) == ["crm.objects.contacts.write", "automation", "oauth"])
            #expect(info.json["token_use"] as? String == "access_token")
            sandbox.expireOAuthAccessTokens()
            let dead = try await Self.form(
                sandbox.baseURL, "/oauth/v3/token/introspect", ["client_id": "cid", "client_secret": "csecret", "token": access])
            #expect(dead.json["active"] as? Bool == false)
        }
    }

    @Test func callbacksTakeOnlyTheOwningAppsTokenWithAutomation() async throws {
        try await withSandbox(Self.configuration) { sandbox, client in
            let path = "/automation/v4/actions/callbacks/cb-1/complete"
            // Another app's token, with every scope: account-level endpoints take it, callbacks do not.
            let foreign = sandbox.issueOAuthAccessToken(appID: 999, scopes: ["automation", "crm.objects.contacts.write"])
            #expect(try await client.send(.POST, "/crm/v3/objects/contacts/batch/upsert", body: upsertBody([("a@example.com", [:])]), token: .some(foreign)).status == 200)
            let refused = try await client.send(.POST, path, body: Self.completion, token: .some(foreign))
            #expect(refused.status == 403)
            // The app's own OAuth token without `automation`.
            let unscoped = sandbox.issueOAuthAccessToken(appID: 777, scopes: ["crm.objects.contacts.write"])
            #expect(try await client.send(.POST, path, body: Self.completion, token: .some(unscoped)).status == 403)
            // The app's OAuth token with `automation`, and its static token.
            let own = sandbox.issueOAuthAccessToken(appID: 777, scopes: ["automation"])
            #expect(try await client.send(.POST, path, body: Self.completion, token: .some(own)).status == 204)
            #expect(try await client.post("/automation/v4/actions/callbacks/cb-2/complete", Self.completion).status == 204)
            #expect(sandbox.callbackCompletions().map(\.callbackID) == ["cb-1", "cb-2"])
        }
    }

    @Test func anInstallFromAnotherPortalCarriesThatPortal() async throws {
        try await withSandbox(Self.configuration) { sandbox, _ in
            sandbox.oauthInstallingPortalID = 5_500_002
            let answer = try await Self.exchange(sandbox.baseURL, try await Self.code(sandbox.baseURL))
            #expect(answer.json["hub_id"] as? Int == 5_500_002)
        }
    }
}
