import AsyncHTTPClient
import Foundation
import NIOCore

/// HubSpot's OAuth v3 token endpoints: `POST /oauth/v3/token` (the `authorization_code` and `refresh_token` grants)
/// and `POST /oauth/v3/token/introspect` (a token's metadata: portal, app, scopes).
///
/// Every parameter, the client secret included, goes in an `application/x-www-form-urlencoded` body, as the v3
/// endpoints require (the v1 endpoints, which took them in the query, stop working on 2027-02-16). Nothing this
/// client logs or throws holds a token, a code or the secret.
public struct HubSpotOAuthClient: Sendable {
    /// The app's credentials and where HubSpot is.
    public struct Configuration: Sendable {
        /// HubSpot's API (`https://api.hubapi.com`; a sandbox's URL in tests).
        public var baseURL: String
        /// The app's client id.
        public var clientID: String
        /// The app's client secret.
        public var clientSecret: String
        /// The redirect URL the authorization used (`HUBSIGNAL_PUBLIC_URL` + `/hubspot/oauth/callback`).
        public var redirectURI: String
        /// The longest a call may take (default 30 s).
        public var timeout: Duration

        public init(
            baseURL: String = "https://api.hubapi.com", clientID: String, clientSecret: String, redirectURI: String,
            timeout: Duration = .seconds(30)
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURI = redirectURI
            self.timeout = timeout
        }
    }

    /// The answer of a token grant (`AccessTokenResponse`).
    public struct Tokens: Sendable, Decodable {
        /// The access token (`access_token`), sent as `Authorization: Bearer`.
        public var accessToken: String
        /// The refresh token (`refresh_token`): keep it secret, it lasts until the app is uninstalled.
        public var refreshToken: String
        /// Seconds until the access token expires (HubSpot: 1800).
        public var expiresIn: Int
        /// The portal (`hub_id`), when HubSpot sent it.
        public var hubID: String?
        /// The user who approved the install (`user_id`), when HubSpot sent it.
        public var userID: String?
        /// The granted scopes (`scopes`), when HubSpot sent them.
        public var scopes: [String]?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", refreshToken = "refresh_token", expiresIn = "expires_in", hubID = "hub_id",
                userID = "user_id", scopes
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            accessToken = try container.decode(String.self, forKey: .accessToken)
            refreshToken = try container.decode(String.self, forKey: .refreshToken)
            expiresIn = try container.decode(Int.self, forKey: .expiresIn)
            hubID = try container.decodeIdentifierIfPresent(forKey: .hubID)
            userID = try container.decodeIdentifierIfPresent(forKey: .userID)
            scopes = try container.decodeIfPresent([String].self, forKey: .scopes)
        }
    }

    /// An access token's metadata (`PublicAccessTokenInfoResponse`); `active` is `false` for a dead token.
    public struct TokenInfo: Sendable, Decodable {
        /// Whether the token is live (`active`; absent counts as `false`).
        public var active: Bool
        /// The portal the token is for (`hub_id`).
        public var hubID: String?
        /// The app the token was issued to (`app_id`).
        public var appID: String?
        /// The user who installed the app (`user_id`).
        public var userID: String?
        /// The granted scopes (`scopes`; empty when absent).
        public var scopes: [String]

        enum CodingKeys: String, CodingKey {
            case active, hubID = "hub_id", appID = "app_id", userID = "user_id", scopes
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            active = try container.decodeIfPresent(Bool.self, forKey: .active) ?? false
            hubID = try container.decodeIdentifierIfPresent(forKey: .hubID)
            appID = try container.decodeIdentifierIfPresent(forKey: .appID)
            userID = try container.decodeIdentifierIfPresent(forKey: .userID)
            scopes = try container.decodeIfPresent([String].self, forKey: .scopes) ?? []
        }
    }

    /// The app's credentials and HubSpot's URL.
    public let configuration: Configuration
    private let httpClient: HTTPClient

    /// A client of HubSpot's token endpoints; it holds no connection of its own (`httpClient`'s pool).
    public init(configuration: Configuration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// Exchanges an authorization code (from the callback) for tokens.
    public func exchange(code: String) async throws -> Tokens {
        try decode(
            Tokens.self,
            try await post(
                "/oauth/v3/token",
                [
                    ("grant_type", "authorization_code"), ("client_id", configuration.clientID),
                    ("client_secret", configuration.clientSecret), ("redirect_uri", configuration.redirectURI), ("code", code),
                ]))
    }

    /// A new access token from a refresh token (HubSpot answers the refresh token too, which may be a new one).
    public func refresh(refreshToken: String) async throws -> Tokens {
        try decode(
            Tokens.self,
            try await post(
                "/oauth/v3/token",
                [
                    ("grant_type", "refresh_token"), ("client_id", configuration.clientID),
                    ("client_secret", configuration.clientSecret), ("refresh_token", refreshToken),
                ]))
    }

    /// An access token's metadata: the portal it is for, the app, the scopes.
    public func introspect(accessToken: String) async throws -> TokenInfo {
        try decode(
            TokenInfo.self,
            try await post(
                "/oauth/v3/token/introspect",
                [
                    ("client_id", configuration.clientID), ("client_secret", configuration.clientSecret), ("token", accessToken),
                    ("token_type_hint", "access_token"),
                ]))
    }

    private struct Answer {
        var status: Int
        var body: [UInt8]
    }

    private func post(_ path: String, _ fields: [(String, String)]) async throws -> Answer {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.form(fields)))
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(configuration.timeout.components.seconds))
            var buffer = try await response.body.collect(upTo: 1024 * 1024)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            status = Int(response.status.code)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw HubSpotOAuthError(code: .unavailable, message: "POST \(path): no answer (\(type(of: error)))")
        }
        guard (200..<300).contains(status) else {
            throw Self.error(status: status, body: bytes, path: path)
        }
        return Answer(status: status, body: bytes)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ answer: Answer) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(answer.body))
        } catch {
            throw HubSpotOAuthError(code: .decoding, status: answer.status, message: "could not read HubSpot's answer as \(T.self)")
        }
    }

    /// HubSpot's error body: RFC 6749's `error` / `error_description`, else HubSpot's `message` and `category`.
    static func error(status: Int, body: [UInt8], path: String) -> HubSpotOAuthError {
        struct Body: Decodable {
            var error: String?
            var error_description: String?
            var message: String?
            var category: String?
        }
        let parsed = try? JSONDecoder().decode(Body.self, from: Data(body))
        let message = parsed?.error_description ?? parsed?.message ?? "POST \(path) answered \(status)"
        let code: HubSpotOAuthError.Code =
            switch (status, parsed?.error) {
            case (_, "invalid_grant"): .invalidGrant
            case (_, "invalid_client"), (401, _): .invalidClient
            case (500..., _), (429, _): .unavailable
            default: .refused
            }
        return HubSpotOAuthError(code: code, status: status, error: parsed?.error, message: message)
    }

    /// `application/x-www-form-urlencoded` text of `fields`.
    static func form(_ fields: [(String, String)]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return fields.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }
}

extension KeyedDecodingContainer {
    /// An id HubSpot may send as a number or a string, as text.
    func decodeIdentifierIfPresent(forKey key: Key) throws -> String? {
        if let number = try? decodeIfPresent(Int64.self, forKey: key) { return String(number) }
        return try decodeIfPresent(String.self, forKey: key)
    }
}
