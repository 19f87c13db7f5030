import Domain
import EventStore
import Foundation
import PQ

/// The HubSpot portal HubSignal's app is installed in through OAuth, and its tokens, sealed, in
/// `hubspot_installations` (one row at most: one deployment serves one portal).
///
/// Only this type reads or writes the table. Tokens are sealed with ``HubSpotTokenCipher`` before they reach SQL and
/// opened only in memory; every install is also recorded as a ``HubSpotAppInstalled`` event, without tokens.
public struct HubSpotInstallations: Sendable {
    /// The installed portal, without its tokens.
    public struct Installation: Sendable, Equatable {
        /// The portal (Hub ID).
        public var portalID: String
        /// HubSpot's id of the app, when the token metadata named it.
        public var appID: String?
        /// The granted scopes, sorted.
        public var scopes: [String]
        /// When the stored access token expires.
        public var accessTokenExpiresAt: Date
        /// When the portal was (last) installed.
        public var installedAt: Date
        /// How many times the access token was refreshed since the install.
        public var refreshes: Int
    }

    /// What ``install(_:portalID:appID:userID:scopes:now:)`` did.
    public enum InstallOutcome: Sendable, Equatable {
        /// The portal's tokens are stored (first install, or a re-authorization of the same portal).
        case installed(Installation)
        /// Another portal is installed already: nothing was stored.
        case boundToAnotherPortal(String)
    }

    let client: PQClient
    let cipher: HubSpotTokenCipher
    let store: EventStore

    /// The table on `client`'s database, tokens sealed with `cipher`, installs recorded in `store`.
    public init(client: PQClient, cipher: HubSpotTokenCipher, store: EventStore) {
        self.client = client
        self.cipher = cipher
        self.store = store
    }

    /// The installed portal, or `nil` before the first install (or after ``erase()``).
    public func current() async throws -> Installation? {
        let rows = try await client.query(
            """
            SELECT portal_id, app_id, scopes, access_token_expires_at, installed_at, refreshes FROM hubspot_installations
            """, name: "hubspot_installations.current")
        guard let row = rows.first else { return nil }
        return Installation(
            portalID: try row.decode(String.self, at: 0), appID: try row.decode(String?.self, at: 1),
            scopes: try row.decode([String].self, at: 2), accessTokenExpiresAt: try row.decode(Date.self, at: 3),
            installedAt: try row.decode(Date.self, at: 4), refreshes: try row.decode(Int.self, at: 5))
    }

    /// Stores a new install's tokens and records it, in one transaction; refused when another portal is installed.
    public func install(
        _ tokens: HubSpotOAuthClient.Tokens, portalID: String, appID: String?, userID: String?, scopes: [String], now: Date = Date()
    ) async throws -> InstallOutcome {
        let refresh = try cipher.seal(tokens.refreshToken, portalID: portalID, kind: "refresh")
        let access = try cipher.seal(tokens.accessToken, portalID: portalID, kind: "access")
        let (expiresAt, refreshAt) = Self.schedule(expiresIn: tokens.expiresIn, now: now)
        let sortedScopes = scopes.sorted()
        return try await client.withTransaction { connection in
            let stored = try await connection.query(
                """
                INSERT INTO hubspot_installations
                    (portal_id, app_id, scopes, refresh_token, access_token, access_token_expires_at, access_token_refresh_at, installed_at)
                VALUES (\(portalID), \(appID), \(sortedScopes), \(refresh), \(access), \(expiresAt), \(refreshAt), \(now))
                ON CONFLICT (singleton) DO UPDATE SET
                    app_id = EXCLUDED.app_id, scopes = EXCLUDED.scopes, refresh_token = EXCLUDED.refresh_token,
                    access_token = EXCLUDED.access_token, access_token_expires_at = EXCLUDED.access_token_expires_at,
                    access_token_refresh_at = EXCLUDED.access_token_refresh_at, installed_at = EXCLUDED.installed_at,
                    refreshed_at = NULL, refreshes = 0
                WHERE hubspot_installations.portal_id = EXCLUDED.portal_id
                RETURNING portal_id
                """, name: "hubspot_installations.install")
            guard !stored.isEmpty else {
                let bound = try await connection.query("SELECT portal_id FROM hubspot_installations", name: "hubspot_installations.bound")
                return .boundToAnotherPortal(try bound.first?.decode(String.self, at: 0) ?? "")
            }
            let payload = HubSpotAppInstalled(
                portalID: portalID, appID: appID, userID: userID, scopes: sortedScopes, expiresIn: tokens.expiresIn)
            try await store.append(
                [
                    try NewEvent(
                        payload, stream: "hubspot-installation:\(portalID)", idempotencyKey: "hubspot-installation:\(UUID().uuidString)",
                        occurredAt: now)
                ],
                on: connection)
            return .installed(
                Installation(
                    portalID: portalID, appID: appID, scopes: sortedScopes, accessTokenExpiresAt: expiresAt, installedAt: now,
                    refreshes: 0))
        }
    }

    /// Deletes the installation and its tokens (`hubsignal hubspot oauth erase`); returns the portal it was for.
    ///
    /// HubSignal then holds no HubSpot credential of the portal; installing again (from any portal) binds anew.
    @discardableResult
    public func erase() async throws -> String? {
        let rows = try await client.query("DELETE FROM hubspot_installations RETURNING portal_id", name: "hubspot_installations.erase")
        return try rows.first?.decode(String.self, at: 0)
    }

    // MARK: - Tokens

    /// The stored tokens, opened, with the row locked until the transaction on `connection` ends.
    struct LockedTokens {
        var portalID: String
        var accessToken: String
        var refreshToken: String
        var accessTokenExpiresAt: Date
        var refreshAt: Date
    }

    /// Locks the row (`SELECT … FOR UPDATE`: a second process waits here until the first one's refresh committed)
    /// and opens its tokens; `nil` when nothing is installed.
    func lockTokens(on connection: PQConnection) async throws -> LockedTokens? {
        let rows = try await connection.query(
            """
            SELECT portal_id, access_token, refresh_token, access_token_expires_at, access_token_refresh_at
            FROM hubspot_installations FOR UPDATE
            """, name: "hubspot_installations.lock")
        guard let row = rows.first else { return nil }
        let portalID = try row.decode(String.self, at: 0)
        return LockedTokens(
            portalID: portalID,
            accessToken: try cipher.open(try row.decode(Data.self, at: 1), portalID: portalID, kind: "access"),
            refreshToken: try cipher.open(try row.decode(Data.self, at: 2), portalID: portalID, kind: "refresh"),
            accessTokenExpiresAt: try row.decode(Date.self, at: 3), refreshAt: try row.decode(Date.self, at: 4))
    }

    /// Stores refreshed tokens in the row locked by ``lockTokens(on:)``; returns when the new access token is due for
    /// a refresh.
    func storeRefreshed(_ tokens: HubSpotOAuthClient.Tokens, portalID: String, on connection: PQConnection, now: Date = Date()) async throws -> (
        expiresAt: Date, refreshAt: Date
    ) {
        let (expiresAt, refreshAt) = Self.schedule(expiresIn: tokens.expiresIn, now: now)
        let access = try cipher.seal(tokens.accessToken, portalID: portalID, kind: "access")
        let refresh = try cipher.seal(tokens.refreshToken, portalID: portalID, kind: "refresh")
        try await connection.execute(
            """
            UPDATE hubspot_installations SET access_token = \(access), refresh_token = \(refresh),
                access_token_expires_at = \(expiresAt), access_token_refresh_at = \(refreshAt), refreshed_at = \(now),
                refreshes = refreshes + 1
            WHERE portal_id = \(portalID)
            """, name: "hubspot_installations.refreshed")
        return (expiresAt, refreshAt)
    }

    /// When a token living `expiresIn` seconds from `now` expires, and when to refresh it: a fifth of its lifetime
    /// before, at most 5 minutes before (HubSpot's 30 minutes: at 25).
    static func schedule(expiresIn: Int, now: Date) -> (expiresAt: Date, refreshAt: Date) {
        let lifetime = TimeInterval(max(0, expiresIn))
        return (now.addingTimeInterval(lifetime), now.addingTimeInterval(lifetime - min(300, lifetime / 5)))
    }
}
