import CLibPQ
import Foundation

extension PQClient.Configuration {
    /// libpq keywords this configuration sets unless the connection string (or `PGCONNECT_TIMEOUT`) sets them.
    var libPQDefaults: [(keyword: String, value: String)] {
        var defaults: [(keyword: String, value: String)] = [("fallback_application_name", applicationName)]
        if let connectTimeout, getenv("PGCONNECT_TIMEOUT") == nil {
            defaults.append(("connect_timeout", String(max(2, connectTimeout.wholeSecondsRoundedUp))))
        }
        if let tcpUserTimeout {
            defaults.append(("tcp_user_timeout", String(tcpUserTimeout.wholeMillisecondsRoundedUp)))
        }
        if let keepalive {
            defaults.append(("keepalives", "1"))
            defaults.append(("keepalives_idle", String(max(1, keepalive.idle.wholeSecondsRoundedUp))))
            defaults.append(("keepalives_interval", String(max(1, keepalive.interval.wholeSecondsRoundedUp))))
            defaults.append(("keepalives_count", String(max(1, keepalive.count))))
        }
        // A keyword the linked libpq does not know would fail every connection.
        return defaults.filter { Self.libPQKeywords.isEmpty || Self.libPQKeywords.contains($0.keyword) }
    }

    /// The connection keywords the linked libpq knows (`tcp_user_timeout` needs libpq 12 or later).
    static let libPQKeywords: Set<String> = {
        guard let options = PQconndefaults() else { return [] }
        defer { PQconninfoFree(options) }
        var keywords: Set<String> = []
        var option = options
        while let keyword = option.pointee.keyword {
            keywords.insert(String(cString: keyword))
            option += 1
        }
        return keywords
    }()
}

extension Duration {
    /// Whole seconds, a fraction counting as one more.
    var wholeSecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        return attoseconds > 0 ? seconds + 1 : seconds
    }

    /// Whole milliseconds, a fraction counting as one more (so that a positive duration never becomes "no limit").
    var wholeMillisecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let (milliseconds, rest) = attoseconds.quotientAndRemainder(dividingBy: perMillisecond)
        return seconds * 1000 + milliseconds + (rest > 0 ? 1 : 0)
    }
}
