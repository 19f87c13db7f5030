import Crypto
import Foundation

/// The write keys the Segment-compatible API accepts (`HUBSIGNAL_WRITE_KEYS`).
///
/// Keys are compared in constant time (through their SHA-256 digests, against every configured key, without an
/// early exit). Events record a key's id — `wk_` and the first 12 hex digits of its SHA-256 — never the key; Segment
/// messages' idempotency keys are scoped by it (`idempotencyKey(messageID:writeKeyID:)`).
public struct WriteKeys: Sendable {
    private let digests: [(digest: [UInt8], id: String)]

    /// - Parameter keys: the accepted keys; blank entries are ignored.
    public init(_ keys: [String]) {
        digests = keys.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { key in
            let digest = Array(SHA256.hash(data: Data(key.utf8)))
            return (digest, Self.id(ofDigest: digest))
        }
    }

    /// Parses a comma-separated list.
    public init(commaSeparated list: String) {
        self.init(list.split(separator: ",").map(String.init))
    }

    /// Whether no key is configured (then every request is refused).
    public var isEmpty: Bool { digests.isEmpty }

    /// The id of `key` when it is accepted, else `nil`.
    public func id(of key: String) -> String? {
        let candidate = Array(SHA256.hash(data: Data(key.utf8)))
        var match: String?
        for entry in digests {
            var difference: UInt8 = 0
            for index in 0..<candidate.count { difference |= candidate[index] ^ entry.digest[index] }
            if difference == 0 { match = entry.id }
        }
        return match
    }

    /// The idempotency key of a Segment message sent with the write key whose id is `writeKeyID`:
    /// `<writeKeyID>:<messageId>`, e.g. `wk_0123456789ab:m-1`.
    ///
    /// Scoping by write key keeps one source from claiming another's `messageId`s, while a source's retries still meet
    /// their first copy. Events stored before keys were scoped keep the bare `messageId` as their key.
    public static func idempotencyKey(messageID: String, writeKeyID: String) -> String {
        writeKeyID + ":" + messageID
    }

    /// The public id of a key (safe to log and store).
    public static func id(of key: String) -> String {
        id(ofDigest: Array(SHA256.hash(data: Data(key.utf8))))
    }

    private static func id(ofDigest digest: [UInt8]) -> String {
        "wk_" + digest.prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
