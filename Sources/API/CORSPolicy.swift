import Foundation
import HTTPTypes
import Ingestion

/// Which web pages may use which write key (`HUBSIGNAL_CORS_ORIGINS`): the CORS answers of the Segment-compatible API.
///
/// A browser write key is public (it is in the page), so what protects it is the list of origins allowed to send with
/// it. A key with no origins is a server key: a request carrying an `Origin` header (a page's `fetch`, XHR or
/// `sendBeacon`) is refused `403`, without CORS headers. A preflight (`OPTIONS`) carries no write key, so it is allowed
/// when *any* key allows its origin; the request that follows is then checked against its own key.
public struct CORSPolicy: Sendable {
    /// The origins allowed to send with one write key.
    public enum Origins: Sendable, Hashable {
        /// Any origin (configured as `*`).
        case any
        /// These origins, normalized (``normalizedOrigin(_:)``).
        case only(Set<String>)
    }

    private let originsByKeyID: [String: Origins]

    /// - Parameter originsByWriteKey: each browser write key and the origins allowed to use it (`*` for any), as
    ///   ``normalizedOrigin(_:)`` accepts them; invalid origins are ignored (the configuration refuses them first).
    public init(originsByWriteKey: [String: [String]]) {
        var byID: [String: Origins] = [:]
        for (key, origins) in originsByWriteKey {
            let id = WriteKeys.id(of: key)
            if origins.contains("*") {
                byID[id] = .any
            } else {
                let normalized = Set(origins.compactMap(Self.normalizedOrigin))
                if !normalized.isEmpty { byID[id] = .only(normalized) }
            }
        }
        originsByKeyID = byID
    }

    /// No browser keys: every request from a page is refused.
    public static let none = CORSPolicy(originsByWriteKey: [:])

    /// What to do with a request made with the write key whose id is `writeKeyID`.
    enum Decision: Equatable {
        /// No `Origin` header: not a browser's cross-origin request; no CORS headers.
        case notFromAPage
        /// A page of an allowed origin: answer with the CORS headers for it.
        case allowed(origin: String)
        /// A page whose origin the key does not allow (or a server key): refuse it.
        case refused(origin: String)
    }

    func decision(origin: String?, writeKeyID: String) -> Decision {
        guard let origin else { return .notFromAPage }
        let requested = origin.lowercased()
        switch originsByKeyID[writeKeyID] {
        case .any?: return .allowed(origin: origin)
        case .only(let allowed)? where allowed.contains(requested): return .allowed(origin: origin)
        default: return .refused(origin: origin)
        }
    }

    /// Whether some write key allows `origin`: the rule for preflights and for answers given before the key is known.
    func allowsSomeKey(_ origin: String) -> Bool {
        let requested = origin.lowercased()
        return originsByKeyID.values.contains { origins in
            switch origins {
            case .any: true
            case .only(let allowed): allowed.contains(requested)
            }
        }
    }

    /// The origins `writeKeyID` allows; `nil` for a server key.
    func origins(ofKeyID writeKeyID: String) -> Origins? { originsByKeyID[writeKeyID] }

    /// An origin as browsers send it: `scheme://host[:port]`, lowercased, without a default port, path, query or
    /// fragment. `nil` when `text` is not an http(s) origin.
    public static func normalizedOrigin(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty,
            components.path.isEmpty, components.query == nil, components.fragment == nil, components.user == nil,
            components.password == nil
        else { return nil }
        var origin = scheme + "://" + host
        if let port = components.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            origin += ":\(port)"
        }
        return origin
    }

    // MARK: - Headers

    /// The headers of an answer to a page of `origin`: it may read the answer (status, body, and the retry headers).
    static func responseHeaders(origin: String) -> HTTPFields {
        [
            .accessControlAllowOrigin: origin, .vary: "Origin",
            .accessControlExposeHeaders: "Retry-After, X-RateLimit-Reset",
        ]
    }

    /// The headers of a successful preflight from `origin` for `method`. The headers the page asks for
    /// (`requestedHeaders`, `Access-Control-Request-Headers`) are allowed when they are a list of header names: SDKs
    /// add their own (analytics-next `X-Retry-Count` and any configured in `deliveryStrategy.config.headers`, RudderStack
    /// `AnonymousId`), and the key, not the headers, is what is checked. Otherwise ``allowedHeaders``.
    static func preflightHeaders(origin: String, method: HTTPRequest.Method, requestedHeaders: String?) -> HTTPFields {
        let headers = requestedHeaders.flatMap { isHeaderNameList($0) ? $0 : nil } ?? allowedHeaders
        return [
            .accessControlAllowOrigin: origin, .vary: "Origin, Access-Control-Request-Headers",
            .accessControlAllowMethods: "\(method.rawValue), OPTIONS",
            .accessControlAllowHeaders: headers,
            .accessControlMaxAge: "\(preflightMaxAge)",
        ]
    }

    /// The request headers a preflight allows when the page names none (or not as a list of names).
    static let allowedHeaders = "Content-Type, Authorization, Content-Encoding, X-Strict-Mode, X-Retry-Count, AnonymousId"

    /// Whether `text` is a comma-separated list of header names (tokens), at most 1 KB.
    static func isHeaderNameList(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 1024 else { return false }
        return text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ","), UInt8(ascii: " "):
                true
            default: false
            }
        }
    }

    /// How long a browser may cache a preflight's answer: 2 hours (Chromium's cap; Firefox allows 24 hours).
    static let preflightMaxAge = 7200
}
