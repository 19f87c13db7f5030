import Domain
import Foundation
import Ingestion
import Testing

/// The bounds the parsers put on dates and ids (what `HostileInputTests` checks over HTTP), without a server.
@Suite struct InputBoundsTests {
    let receivedAt = ISO8601Timestamp.parse("2026-11-23T12:00:10.000Z")!

    @Test func onlyDatesBetweenTheYears1And9999AreStorable() {
        #expect(ISO8601Timestamp.isStorable(ISO8601Timestamp.earliest))
        #expect(ISO8601Timestamp.isStorable(ISO8601Timestamp.latest))
        #expect(ISO8601Timestamp.format(ISO8601Timestamp.earliest) == "0001-01-01T00:00:00.000Z")
        #expect(ISO8601Timestamp.format(ISO8601Timestamp.latest) == "9999-12-31T23:59:59.999Z")
        for seconds in [Double.nan, .infinity, -.infinity, 1e300, -1e300] {
            #expect(!ISO8601Timestamp.isStorable(Date(timeIntervalSince1970: seconds)), "\(seconds)")
        }
        #expect(!ISO8601Timestamp.isStorable(ISO8601Timestamp.earliest.addingTimeInterval(-0.001)))
        #expect(!ISO8601Timestamp.isStorable(ISO8601Timestamp.latest.addingTimeInterval(0.001)))
    }

    /// `format` is also reached with dates converted from client values outside ingestion (a trait mapped as a
    /// datetime): it must never trap.
    @Test func formattingAnyDateNeverTraps() {
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 1e300)) == "9999-12-31T23:59:59.999Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59.999Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: -1e300)) == "0001-01-01T00:00:00.000Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: .nan)) == "0001-01-01T00:00:00.000Z")
        #expect(ISO8601Timestamp.format(ISO8601Timestamp.parse("0000-06-01T00:00:00Z")!) == "0001-01-01T00:00:00.000Z")
        #expect(ISO8601Timestamp.format(ISO8601Timestamp.parse("2026-11-23T16:04:47.123Z")!) == "2026-11-23T16:04:47.123Z")
        // Before 1970 with milliseconds (the remainder of the division is negative).
        #expect(ISO8601Timestamp.format(ISO8601Timestamp.parse("1969-12-31T23:59:59.5Z")!) == "1969-12-31T23:59:59.500Z")
        #expect(ISO8601Timestamp.format(ISO8601Timestamp.parse("1900-01-01T00:00:00.123Z")!) == "1900-01-01T00:00:00.123Z")
    }

    @Test func aClockSkewCorrectionOutOfRangeRejectsTheMessage() throws {
        let body = Array(#"{"batch": [{"type": "track", "userId": "u", "event": "E", "timestamp": "0001-01-01T00:00:00Z", "sentAt": "9999-12-31T23:59:59Z"}]}"#.utf8)
        let result = try SegmentNormalizer.normalize(body, endpoint: .batch, receivedAt: receivedAt)
        #expect(result.accepted.isEmpty)
        #expect(result.rejected.first?.reason.contains("between the years 1 and 9999") == true)
    }

    @Test func hubSpotOccurredAtOutOfRangeOrNaNRejectsTheEvent() throws {
        for occurredAt in ["1e300", "9223372036854775807", "\"nan\"", "\"-inf\"", "253402300800000"] {
            let body = try JSONValue.parse(
                Array(#"[{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 3, "occurredAt": \#(occurredAt)}]"#.utf8))
            let result = try HubSpotWebhookParser.parse(body)
            #expect(result.accepted.isEmpty, "\(occurredAt)")
            #expect(result.rejected.first?.reason.contains("occurredAt") == true, "\(occurredAt)")
        }
    }

    @Test func idsOverTheLimitAreRefusedNamingFieldAndLimit() throws {
        let atLimit = String(repeating: "u", count: SegmentNormalizer.maximumIdentifierBytes)
        let over = atLimit + "u"
        let message = { (userID: String) in
            Array(#"{"batch": [{"type": "track", "userId": "\#(userID)", "event": "E"}]}"#.utf8)
        }
        #expect(try SegmentNormalizer.normalize(message(atLimit), endpoint: .batch, receivedAt: receivedAt).accepted.count == 1)
        let rejected = try SegmentNormalizer.normalize(message(over), endpoint: .batch, receivedAt: receivedAt).rejected
        #expect(rejected.first?.reason == "\"userId\" is 1025 bytes; the limit is 1024 bytes")

        let event = try JSONValue.parse(Array(#"{"event_id": "e", "kind": "message.push.sent", "message_id": "\#(over)"}"#.utf8))
        #expect(throws: IngestionError.self) { try OneSignalEventParser.parse(event, receivedAt: receivedAt) }
    }
}
