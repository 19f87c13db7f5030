import Crypto
import Foundation

/// The OAuth `state` parameter: `<expiry>.<nonce>.<mac>`, an HMAC-SHA256 (under ``HubSpotTokenCipher``'s state key)
/// of the expiry (Unix seconds) and a random nonce, checked without storing anything.
///
/// The nonce also goes into a cookie of the browser that started the install, and the callback requires both to
/// match: a callback URL made by someone else (login CSRF, RFC 6749 §10.12) carries a state that was not issued to
/// this browser.
struct HubSpotOAuthState: Sendable {
    /// Why a state is refused.
    enum Refusal: Sendable, Equatable {
        /// Missing, malformed, or its MAC does not match.
        case forged
        /// Older than its lifetime.
        case expired
        /// Valid, but issued to another browser (its nonce is not this browser's cookie).
        case otherBrowser
    }

    let key: SymmetricKey
    let lifetime: Duration

    /// A new state and the nonce to put in the browser's cookie.
    func make(now: Date = Date()) -> (state: String, nonce: String) {
        let expiry = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        let nonce = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }.base64URL
        return ("\(expiry).\(nonce).\(mac("\(expiry).\(nonce)"))", nonce)
    }

    /// `nil` when `state` was issued by ``make(now:)`` with this key, is not expired, and carries `cookieNonce`.
    func refusal(of state: String?, cookieNonce: String?, now: Date = Date()) -> Refusal? {
        let parts = state?.split(separator: ".", omittingEmptySubsequences: false) ?? []
        guard parts.count == 3, let expiry = Int64(parts[0]) else { return .forged }
        // Crypto's check compares in constant time.
        guard let code = Data(base64URL: String(parts[2])),
            HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: key)
        else { return .forged }
        guard Int64(now.timeIntervalSince1970) <= expiry else { return .expired }
        guard let cookieNonce, cookieNonce == String(parts[1]) else { return .otherBrowser }
        return nil
    }

    private func mac(_ text: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)).base64URL
    }
}

extension Data {
    /// Reads base64url without padding (RFC 4648 §5); `nil` when `text` is not that.
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    /// Base64url without padding (RFC 4648 §5).
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
