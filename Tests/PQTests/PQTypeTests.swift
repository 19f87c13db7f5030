import Foundation
import PQ
import Testing
import TestSupport

@Suite struct PQTypeTests {
    @Test func valuesRoundTripThroughParametersAndResults() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let id = UUID()
            let when = Date(timeIntervalSince1970: 1_790_000_000.123456)
            let json = PQJSONB(#"{"name": "Ada \"the\" Countess", "n": [1, 2]}"#)
            let blob = PQBytes([0, 1, 2, 254, 255, 92, 39])
            let row = try await database.client.query(
                """
                SELECT \("héllo\ttab\nline")::text, \(Int64.max)::bigint, \(Int32(-7))::int, \(true)::bool,
                       \(when)::timestamptz, \(json)::jsonb, \(id)::uuid, \(blob)::bytea, \(2.5)::float8,
                       \(["a", "b c", "d,\"e\"", "NULL"])::text[], \([1, 2, 3] as [Int64])::bigint[], \(Optional<String>.none)::text
                """)[0]
            let (text, big, small, flag, date, decodedJSON, uuid, bytes, double, strings, integers, missing) = try row.decode(
                (String, Int64, Int32, Bool, Date, PQJSONB, UUID, PQBytes, Double, [String], [Int64], String?).self)
            #expect(text == "héllo\ttab\nline")
            #expect(big == Int64.max)
            #expect(small == -7)
            #expect(flag == true)
            #expect(abs(date.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000_001)
            #expect(try decodedJSON.decode([String: JSONValueProbe].self)["name"] == .string("Ada \"the\" Countess"))
            #expect(uuid == id)
            #expect(bytes == blob)
            #expect(double == 2.5)
            #expect(strings == ["a", "b c", "d,\"e\"", "NULL"])
            #expect(integers == [1, 2, 3])
            #expect(missing == nil)
        }
    }

    @Test func timestampsDecodeInEveryTimeZoneAndFormat() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.client.withConnection { connection in
                try await connection.execute("SET TimeZone = 'Asia/Kolkata'")
                let row = try await connection.query(
                    "SELECT '2026-11-23 16:04:47.5+00'::timestamptz, '2026-02-28'::date, 'infinity'::timestamptz, '1999-12-31 23:59:59'::timestamp"
                )[0]
                let (zoned, day, infinite, local) = try row.decode((Date, Date, Date, Date).self)
                #expect(zoned.timeIntervalSince1970 == 1_795_449_887.5)
                #expect(day.timeIntervalSince1970 == 1_772_236_800)
                #expect(infinite == .distantFuture)
                #expect(local.timeIntervalSince1970 == 946_684_799)
            }
        }
    }

    @Test func nullIntoNonOptionalIsAClearError() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let row = try await database.client.query("SELECT NULL::text AS nickname")[0]
            let error = try #require(throws: PQError.self) { try row.decode(String.self, column: "nickname") }
            #expect(error.code == .unexpectedNull)
            #expect(error.message.contains("nickname"))
            #expect(try row.decode(String?.self, column: "nickname") == nil)
        }
    }

    @Test func hostileStringsStayValues() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.client.execute("CREATE TABLE notes (body text)")
            let hostile = "'); DROP TABLE notes; --"
            try await database.client.execute("INSERT INTO notes (body) VALUES (\(hostile))")
            let stored = try await database.client.query("SELECT body FROM notes")[0].decode(String.self, at: 0)
            #expect(stored == hostile)
            // An identifier with a quote in it is quoted, not executed.
            let weird = "we\"ird; DROP TABLE notes"
            try await database.client.execute("CREATE TABLE \(identifier: weird) (x int)")
            let count = try await database.client.query("SELECT count(*) FROM pg_tables WHERE tablename IN ('notes', \(weird))")[0]
                .decode(Int.self, at: 0)
            #expect(count == 2)
        }
    }

    @Test func nulBytesInTextAreRefusedNotTruncated() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let error = await #expect(throws: PQError.self) {
                try await database.client.query("SELECT \("abc\u{0}def")::text")
            }
            #expect(error?.sqlState == "22021")
        }
    }
}

/// Decodes any JSON value, to check JSON contents in tests.
enum JSONValueProbe: Decodable, Equatable {
    case string(String), number(Double), other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .other
        }
    }
}
