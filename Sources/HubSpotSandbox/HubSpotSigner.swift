import Crypto
import Foundation

/// HubSpot's request signatures (HubSpot → app).
public enum HubSpotSigner {
    /// v3: base64 HMAC-SHA256 of `method + uri + body + timestamp`, keyed with the client secret. As HubSpot does,
    /// the URI is hashed with these percent-escapes decoded: `%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B`.
    public static func v3(clientSecret: String, method: String, uri: String, body: Data, timestamp: String) -> String {
        var message = Data((method + decodedForV3(uri)).utf8)
        message.append(body)
        message.append(Data(timestamp.utf8))
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(clientSecret.utf8)))
        return Data(code).base64EncodedString()
    }

    /// The URI as v3 signs it.
    static func decodedForV3(_ uri: String) -> String {
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

    /// v2: hex SHA-256 of `clientSecret + method + uri + body`.
    public static func v2(clientSecret: String, method: String, uri: String, body: Data) -> String {
        var message = Data((clientSecret + method + uri).utf8)
        message.append(body)
        return SHA256.hash(data: message).map { String(format: "%02x", $0) }.joined()
    }

    /// v1: hex SHA-256 of `clientSecret + body`.
    public static func v1(clientSecret: String, body: Data) -> String {
        var message = Data(clientSecret.utf8)
        message.append(body)
        return SHA256.hash(data: message).map { String(format: "%02x", $0) }.joined()
    }
}
