import Foundation
import Testing

@testable import HubSpotAuth

/// The install link's `state`: issued and checked without storage, refused when forged, expired or from another
/// browser.
@Suite struct HubSpotOAuthStateTests {
    let cipher = try! HubSpotTokenCipher(base64Key: Data(repeating: 7, count: 32).base64EncodedString())

    var state: HubSpotOAuthState { HubSpotOAuthState(key: cipher.stateKey, lifetime: .seconds(600)) }

    @Test func anIssuedStateIsAcceptedWithItsCookie() {
        let now = Date()
        let (issued, nonce) = state.make(now: now)
        #expect(state.refusal(of: issued, cookieNonce: nonce, now: now.addingTimeInterval(599)) == nil)
    }

    @Test func aForgedStateIsRefused() {
        let now = Date()
        let (issued, nonce) = state.make(now: now)
        var parts = issued.split(separator: ".").map(String.init)
        // A later expiry with the same MAC, a MAC of another key, garbage, nothing.
        parts[0] = String(Int(parts[0])! + 3600)
        #expect(state.refusal(of: parts.joined(separator: "."), cookieNonce: nonce, now: now) == .forged)
        let other = HubSpotOAuthState(key: try! HubSpotTokenCipher(base64Key: Data(repeating: 8, count: 32).base64EncodedString()).stateKey, lifetime: .seconds(600))
        let (foreign, foreignNonce) = other.make(now: now)
        #expect(state.refusal(of: foreign, cookieNonce: foreignNonce, now: now) == .forged)
        #expect(state.refusal(of: "x.y.z", cookieNonce: nonce, now: now) == .forged)
        #expect(state.refusal(of: nil, cookieNonce: nonce, now: now) == .forged)
    }

    @Test func anExpiredStateIsRefused() {
        let now = Date()
        let (issued, nonce) = state.make(now: now)
        #expect(state.refusal(of: issued, cookieNonce: nonce, now: now.addingTimeInterval(601)) == .expired)
    }

    @Test func aStateIssuedToAnotherBrowserIsRefused() {
        let now = Date()
        let (issued, _) = state.make(now: now)
        let (_, otherNonce) = state.make(now: now)
        #expect(state.refusal(of: issued, cookieNonce: otherNonce, now: now) == .otherBrowser)
        #expect(state.refusal(of: issued, cookieNonce: nil, now: now) == .otherBrowser)
    }

    @Test func aSealedTokenOpensOnlyForItsPortalAndKind() throws {
        let box = try cipher.seal("refresh-secret", portalID: "123", kind: "refresh")
        #expect(!String(decoding: box, as: UTF8.self).contains("refresh-secret"))
        #expect(try cipher.open(box, portalID: "123", kind: "refresh") == "refresh-secret")
        #expect(throws: HubSpotOAuthError.self) { try cipher.open(box, portalID: "124", kind: "refresh") }
        #expect(throws: HubSpotOAuthError.self) { try cipher.open(box, portalID: "123", kind: "access") }
        #expect(throws: HubSpotOAuthError.self) { try HubSpotTokenCipher(base64Key: "too-short") }
    }
}
