import Crypto
import Foundation

/// HubSpot request signatures (`shared/contracts/hubspot.md` §7), verified in constant time.
///
/// - v3: `base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp))`, with `X-HubSpot-Request-Timestamp`
///   (epoch milliseconds) at most 5 minutes old.
/// - v2: `hex(SHA-256(clientSecret + method + uri + body))` (custom workflow actions).
/// - v1: `hex(SHA-256(clientSecret + body))` (computed for completeness; never accepted: it covers no URI and no time,
///   so a captured request could be replayed anywhere).
public enum HubSpotSignature {
    /// How old a v3 timestamp may be.
    public static let maximumAge: TimeInterval = 300

    /// The v3 signature of a request.
    public static func v3(secret: String, method: String, uri: String, body: [UInt8], timestamp: String) -> String {
        var message = Array((method + decodeURIForV3(uri)).utf8)
        message.append(contentsOf: body)
        message.append(contentsOf: Array(timestamp.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    /// The v2 signature of a request.
    public static func v2(secret: String, method: String, uri: String, body: [UInt8]) -> String {
        var message = Array((secret + method + uri).utf8)
        message.append(contentsOf: body)
        return hex(SHA256.hash(data: message))
    }

    /// The v1 signature of a request.
    public static func v1(secret: String, body: [UInt8]) -> String {
        var message = Array(secret.utf8)
        message.append(contentsOf: body)
        return hex(SHA256.hash(data: message))
    }

    /// The signature headers of a request.
    public struct Headers: Sendable {
        public var signatureV3: String?
        public var timestamp: String?
        public var signature: String?
        public var version: String?

        public init(signatureV3: String?, timestamp: String?, signature: String?, version: String?) {
            self.signatureV3 = signatureV3
            self.timestamp = timestamp
            self.signature = signature
            self.version = version
        }
    }

    /// Why a request was refused.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missing(String)
        case mismatch(String)
        case stale
        case unsupportedVersion(String)

        public var description: String {
            switch self {
            case .missing(let what): return "the request has no \(what)"
            case .mismatch(let version): return "the \(version) signature does not match (check HUBSPOT_CLIENT_SECRET and HUBSIGNAL_PUBLIC_URL)"
            case .stale: return "X-HubSpot-Request-Timestamp is more than 5 minutes away from now (a replayed or delayed request)"
            case .unsupportedVersion(let version): return "signature version \(version) is not accepted; HubSpot signs with v3 (or v2 for workflow actions)"
            }
        }
    }

    /// Verifies a request: v3 when its headers are present; otherwise v2 when `allowV2` (workflow actions).
    ///
    /// - Returns: the version that was verified (`v3` or `v2`).
    public static func verify(
        headers: Headers, secret: String, method: String, uri: String, body: [UInt8], allowV2: Bool, now: Date = Date()
    ) throws(Failure) -> String {
        if let signature = headers.signatureV3, let timestamp = headers.timestamp {
            guard let milliseconds = Double(timestamp) else { throw .missing("valid X-HubSpot-Request-Timestamp") }
            guard abs(now.timeIntervalSince1970 - milliseconds / 1000) <= maximumAge else { throw .stale }
            let expected = v3(secret: secret, method: method, uri: uri, body: body, timestamp: timestamp)
            guard constantTimeEquals(expected, signature) else { throw .mismatch("v3") }
            return "v3"
        }
        guard allowV2 else { throw .missing("X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp headers") }
        guard let signature = headers.signature else { throw .missing("X-HubSpot-Signature header") }
        let version = headers.version?.lowercased() ?? "v1"
        guard version == "v2" else { throw .unsupportedVersion(version) }
        let expected = v2(secret: secret, method: method, uri: uri, body: body)
        guard constantTimeEquals(expected, signature.lowercased()) else { throw .mismatch("v2") }
        return "v2"
    }

    /// HubSpot's v3 URI rule: these percent-escapes are decoded before hashing.
    static func decodeURIForV3(_ uri: String) -> String {
        let escapes: [(String, String)] = [
            ("%3A", ":"), ("%2F", "/"), ("%3F", "?"), ("%40", "@"), ("%21", "!"), ("%24", "$"), ("%27", "'"), ("%28", "("),
            ("%29", ")"), ("%2A", "*"), ("%2C", ","), ("%3B", ";"),
        ]
        var result = uri
        for (escape, character) in escapes {
            result = result.replacingOccurrences(of: escape, with: character, options: .caseInsensitive)
        }
        return result
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// Compares two secrets or signatures without an early exit (through their SHA-256 digests, so lengths leak nothing).
public func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    let left = Array(SHA256.hash(data: Data(lhs.utf8)))
    let right = Array(SHA256.hash(data: Data(rhs.utf8)))
    var difference: UInt8 = 0
    for index in 0..<left.count { difference |= left[index] ^ right[index] }
    return difference == 0
}
