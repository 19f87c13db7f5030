import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The OAuth install flow the controller drives (the `HubSpotAuth` module's installer, adapted by `App`).
public protocol HubSpotOAuthFlow: Sendable {
    /// The authorize URL to send the browser to, and the nonce its cookie must carry back.
    func start() -> (url: String, nonce: String)
    /// Completes an install from the callback's query and the browser's cookie nonce.
    func complete(code: String?, state: String?, error: String?, cookieNonce: String?) async -> HubSpotOAuthResult
}

/// How an install callback ended, as the page shows it.
public enum HubSpotOAuthResult: Sendable, Equatable {
    /// The portal is installed.
    case installed(portalID: String)
    /// Another portal is bound to this deployment: refused, nothing stored.
    case otherPortal(portalID: String, boundPortalID: String)
    /// The `state` is missing, forged, expired or from another browser.
    case invalidState(String)
    /// The user declined, or HubSpot sent an error.
    case denied(String)
    /// HubSpot's token endpoint failed, or storing failed.
    case failed(String)
}

/// The portal this deployment serves: `HUBSPOT_PORTAL_ID`, else the one the OAuth install bound (read from the
/// database until there is one, then kept).
public final class HubSpotPortalBinding: Sendable {
    private let configured: String?
    private let bound = Mutex<String?>(nil)
    private let load: @Sendable () async throws -> String?

    /// - Parameters:
    ///   - configured: `HUBSPOT_PORTAL_ID`; when set it is the only portal, whatever is installed.
    ///   - load: reads the installed portal (`nil` before the first install).
    public init(configured: String?, load: @escaping @Sendable () async throws -> String?) {
        self.configured = configured?.isEmpty == true ? nil : configured
        self.load = load
    }

    /// The portal accepted, or `nil` when none is configured nor installed (then HubSpot's requests are refused).
    public func portalID() async -> String? {
        if let configured { return configured }
        if let portal = bound.withLock({ $0 }) { return portal }
        guard let loaded = try? await load() else { return nil }
        bound.withLock { $0 = loaded }
        return loaded
    }

    /// Records the portal an install just bound.
    public func bind(_ portalID: String) {
        bound.withLock { $0 = portalID }
    }
}

/// `GET /hubspot/oauth/install` and `GET /hubspot/oauth/callback`: installing HubSignal's HubSpot app with OAuth.
///
/// The install redirects to HubSpot's authorize page with the scopes, the redirect URL and a signed `state`, and sets
/// a short-lived cookie (`hubsignal_oauth`, `HttpOnly`, `SameSite=Lax`, path `/hubspot/oauth`) with the state's
/// nonce; the callback requires both, so a callback link made by someone else is refused. The callback answers an
/// HTML page: `200` installed, `403` another portal than the bound one, `400` a bad state or a declined install,
/// `502` HubSpot's token endpoint failed. Without OAuth configuration both answer `404` with what to set.
public struct HubSpotOAuthController: Sendable {
    static let cookieName = "hubsignal_oauth"

    let flow: (any HubSpotOAuthFlow)?
    let isSecure: Bool

    /// - Parameters:
    ///   - flow: the install flow; `nil` when OAuth is not configured.
    ///   - publicURL: `HUBSIGNAL_PUBLIC_URL`; an `https` URL makes the cookie `Secure`.
    public init(flow: (any HubSpotOAuthFlow)?, publicURL: String?) {
        self.flow = flow
        self.isSecure = publicURL?.lowercased().hasPrefix("https://") ?? false
    }

    /// Adds the routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("hubspot/oauth/install") { _, _ in
            install()
        }
        router.get("hubspot/oauth/callback") { request, _ in
            await callback(request)
        }
    }

    func install() -> Response {
        guard let flow else { return Self.notConfigured }
        let (url, nonce) = flow.start()
        var headers = HTTPFields()
        headers[.location] = url
        headers[.setCookie] = cookie(nonce, maxAge: 600)
        headers[.cacheControl] = "no-store"
        return Response(status: .found, headers: headers)
    }

    func callback(_ request: Request) async -> Response {
        guard let flow else { return Self.notConfigured }
        let query = request.uri.queryParameters
        let result = await flow.complete(
            code: query["code"].map(String.init), state: query["state"].map(String.init), error: query["error"].map(String.init),
            cookieNonce: Self.cookie(named: Self.cookieName, in: request.headers[values: .cookie]))
        var response: Response
        switch result {
        case .installed(let portalID):
            response = Self.page(
                .ok, "HubSignal is installed",
                "HubSpot account \(portalID) is connected. HubSignal now syncs to it; you can close this page.")
        case .otherPortal(let portalID, let bound):
            response = Self.page(
                .forbidden, "Another HubSpot account is connected",
                "This HubSignal serves HubSpot account \(bound) only, so the install from account \(portalID) was refused and "
                    + "nothing was stored. Install from account \(bound), or run another HubSignal for account \(portalID).")
        case .invalidState(let reason):
            response = Self.page(.badRequest, "This install link is not valid", "The install was refused: \(reason).")
        case .denied(let reason):
            response = Self.page(.badRequest, "The install did not complete", "HubSpot answered: \(reason).")
        case .failed(let reason):
            response = Self.page(.badGateway, "The install failed", "The install could not be completed: \(reason). Try again.")
        }
        response.headers[.setCookie] = cookie("", maxAge: 0)
        return response
    }

    private func cookie(_ value: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(value); Path=/hubspot/oauth; Max-Age=\(maxAge); HttpOnly; SameSite=Lax\(isSecure ? "; Secure" : "")"
    }

    /// The value of cookie `name` in the request's `Cookie` headers.
    static func cookie(named name: String, in headers: [String]) -> String? {
        for header in headers {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }

    static var notConfigured: Response {
        page(
            .notFound, "OAuth installs are not configured",
            "Set HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSIGNAL_TOKEN_KEY and HUBSIGNAL_PUBLIC_URL to install the "
                + "HubSpot app with OAuth, or use a static auth token (HUBSPOT_ACCESS_TOKEN).")
    }

    /// A small HTML page with a title and one paragraph (both escaped).
    static func page(_ status: HTTPResponse.Status, _ title: String, _ message: String) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title></head>
            <body><h1>\(escape(title))</h1><p>\(escape(message))</p></body></html>

            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
