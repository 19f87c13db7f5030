import Crypto
import Foundation

/// Seals HubSpot tokens for storage with AES-256-GCM under the key of `HUBSIGNAL_TOKEN_KEY`, and signs the OAuth
/// `state` with a key derived from it.
///
/// Each sealed box is bound to its portal and kind (`refresh` or `access`) as associated data, so a box copied to
/// another row or column does not open. The key is 32 random bytes, base64 (`openssl rand -base64 32`); losing it
/// only costs a new install.
public struct HubSpotTokenCipher: Sendable {
    private let key: SymmetricKey
    /// The key of the OAuth `state` MACs (HKDF-SHA256 of the token key), so the token key itself signs nothing.
    let stateKey: SymmetricKey

    /// - Throws: ``HubSpotOAuthError`` when `base64Key` is not 32 bytes in base64.
    public init(base64Key: String) throws {
        guard let bytes = Data(base64Encoded: base64Key.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw HubSpotOAuthError(
                code: .refused, message: "HUBSIGNAL_TOKEN_KEY must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)")
        }
        key = SymmetricKey(data: bytes)
        stateKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, info: Data("hubsignal hubspot oauth state".utf8), outputByteCount: 32)
    }

    /// Whether `base64Key` is a usable key (what `hubsignal config check` asks).
    public static func isValidKey(_ base64Key: String) -> Bool {
        (try? HubSpotTokenCipher(base64Key: base64Key)) != nil
    }

    /// Seals `token` (nonce ‖ ciphertext ‖ tag) for `portalID`'s `kind` column.
    func seal(_ token: String, portalID: String, kind: String) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(token.utf8), using: key, authenticating: Self.context(portalID, kind)).combined else {
            throw HubSpotOAuthError(code: .decoding, message: "AES-GCM gave no combined box")
        }
        return combined
    }

    /// Opens a box ``seal(_:portalID:kind:)`` made.
    ///
    /// - Throws: ``HubSpotOAuthError`` (`.notInstalled`) when the box does not open: another key, or tampered.
    func open(_ box: Data, portalID: String, kind: String) throws -> String {
        do {
            let sealed = try AES.GCM.SealedBox(combined: box)
            return String(decoding: try AES.GCM.open(sealed, using: key, authenticating: Self.context(portalID, kind)), as: UTF8.self)
        } catch {
            throw HubSpotOAuthError(
                code: .notInstalled,
                message: "the stored HubSpot \(kind) token does not open with HUBSIGNAL_TOKEN_KEY (another key?): install the app again")
        }
    }

    private static func context(_ portalID: String, _ kind: String) -> Data {
        Data("hubspot-installation:\(portalID):\(kind)".utf8)
    }
}
