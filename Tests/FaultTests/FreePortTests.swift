import EmbeddedPostgres
import Foundation
import Testing

/// The ports the tests give their servers: outside the kernel's ephemeral range, where a client connection could take
/// one before the server binds it, and never the same twice in a process.
@Suite struct FreePortTests {
    @Test func portsComeFromBelowTheEphemeralRangeAndAreNeverHandedOutTwice() throws {
        let text = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let ephemeralLow = try #require(text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) })
        var seen: Set<Int> = []
        for _ in 0..<300 {
            let port = try EmbeddedPostgres.findFreePort()
            #expect(port < ephemeralLow, "port \(port) is in the ephemeral range from \(ephemeralLow)")
            #expect(port >= 10_000)
            #expect(seen.insert(port).inserted, "port \(port) was handed out twice")
        }
    }
}
