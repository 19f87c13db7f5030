import Foundation
import PQ
import Testing
import TestSupport

@Suite struct PQQueryCompositionTests {
    @Test func aFragmentsPlaceholdersFollowTheQuerysAndItsValuesAreBoundAfterThem() {
        let recent: PQQuery = "kind = \("b") AND age < \(Int64(9))"
        let query: PQQuery = "SELECT * FROM t WHERE id = \(Int64(1)) AND name = \("a") AND \(fragment: recent) AND x = \(true)"
        #expect(query.sql == "SELECT * FROM t WHERE id = $1 AND name = $2 AND kind = $3 AND age < $4 AND x = $5")
        #expect(
            query.parameters == [Int64(1).pqParameter, "a".pqParameter, "b".pqParameter, Int64(9).pqParameter, true.pqParameter])
    }

    @Test func aFragmentEmbeddedTwiceBindsItsValuesTwiceAndKeepsItsOwnRepeatedPlaceholders() {
        let fragment = PQQuery(unsafeSQL: "($1 < a AND a < $1 + $2)", parameters: [Int64(5).pqParameter, Int64(2).pqParameter])
        let query: PQQuery = "SELECT \(fragment: fragment) OR \(fragment: fragment) OR b = \("x")"
        #expect(query.sql == "SELECT ($1 < a AND a < $1 + $2) OR ($3 < a AND a < $3 + $4) OR b = $5")
        #expect(query.parameters.count == 5)
        #expect(query.parameters[2] == Int64(5).pqParameter)
        #expect(query.parameters[4] == "x".pqParameter)
    }

    @Test func fragmentsNest() {
        let inner: PQQuery = "c = \("inner")"
        let middle: PQQuery = "b = \("middle") AND \(fragment: inner)"
        let outer: PQQuery = "a = \("outer") AND \(fragment: middle) AND d = \("last")"
        #expect(outer.sql == "a = $1 AND b = $2 AND c = $3 AND d = $4")
        #expect(outer.parameters == ["outer", "middle", "inner", "last"].map(\.pqParameter))
    }

    @Test func placeholdersOfTwoOrMoreDigitsAreRenumberedWhole() {
        var inner = PQQuery(unsafeSQL: "")
        inner.sql = (1...12).map { "$\($0)" }.joined(separator: ",")
        inner.parameters = (1...12).map { Int64($0).pqParameter }
        let query: PQQuery = "\(Int64(0)), \(fragment: inner)"
        #expect(query.sql == "$1, " + (2...13).map { "$\($0)" }.joined(separator: ","))
        let wide: PQQuery = "\(fragment: query) \(fragment: query)"
        #expect(wide.sql.hasSuffix("$14, " + (15...26).map { "$\($0)" }.joined(separator: ",")))
    }

    @Test func dollarSignsThatAreNotPlaceholdersStayText() {
        let sql = """
            SELECT $1, '$1', 'it''s $1', E'\\'$1', e'\\\\', $2, "col$1", "a""$1", a$1, x$$, $$ $1 $$, $tag$ $1 $$ $2 $tag$,
                   $1$2, -- $1 in a comment
                   $2 /* $1 /* nested $1 */ still $1 */, 'ü$1', ü$1, $2::int
            """
        let fragment = PQQuery(unsafeSQL: sql, parameters: [Int64(1).pqParameter, Int64(2).pqParameter])
        let query: PQQuery = "\("first") \(fragment: fragment)"
        #expect(
            query.sql == """
                $1 SELECT $2, '$1', 'it''s $1', E'\\'$1', e'\\\\', $3, "col$1", "a""$1", a$1, x$$, $$ $1 $$, $tag$ $1 $$ $2 $tag$,
                       $2$3, -- $1 in a comment
                       $3 /* $1 /* nested $1 */ still $1 */, 'ü$1', ü$1, $3::int
                """)
    }

    @Test func aFragmentWithoutPlaceholdersIsAppendedAsItIs() {
        let constant: PQQuery = "state IN ('queued', 'done') AND price > '$5'"
        let query: PQQuery = "SELECT \(Int64(1)) WHERE \(fragment: constant)"
        #expect(query.sql == "SELECT $1 WHERE state IN ('queued', 'done') AND price > '$5'")
        #expect(query.parameters == [Int64(1).pqParameter])
    }

    @Test func theOuterQueryKeepsItsOwnNameAndPreparation() {
        let fragment = PQQuery(unsafeSQL: "a = $1", parameters: [Int64(1).pqParameter], name: "fragment").planEachTime()
        let query: PQQuery = "SELECT 1 WHERE \(fragment: fragment)"
        #expect(query.name == "SELECT 1 WHERE a = $1")
        #expect(query.isPrepared)
    }

    @Test func aPlaceholderNamingNoParameterOfTheFragmentStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let fragment = PQQuery(unsafeSQL: "a = $2", parameters: [Int64(1).pqParameter])
            let query: PQQuery = "SELECT \(fragment: fragment)"
            _ = query
        }
    }

    @Test func theServerReadsAComposedQueryAsComposed() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let window: PQQuery = "n BETWEEN \(Int64(3)) AND \(Int64(5)) AND '$1' = '$1' AND label <> $$ $2 $$"
            let label: PQQuery = "label || \(" (n)")"
            let query: PQQuery = """
                SELECT \(fragment: label), n * \(Int64(10))
                FROM (SELECT n, 'n' || n AS label FROM generate_series(1, 9) n) t
                WHERE \(fragment: window) OR n = \(Int64(9))
                ORDER BY n
                """
            let rows = try await database.client.query(query).map { try $0.decode((String, Int64).self) }
            #expect(rows.map(\.0) == ["n3 (n)", "n4 (n)", "n5 (n)", "n9 (n)"])
            #expect(rows.map(\.1) == [30, 40, 50, 90])
        }
    }

    @Test func literalsAreQuotedAsQuoteLiteralQuotesThem() {
        #expect(PQQuery.quoteLiteral("hubsignal.hubspot.object_synced") == "'hubsignal.hubspot.object_synced'")
        #expect(PQQuery.quoteLiteral("it's") == "'it''s'")
        #expect(PQQuery.quoteLiteral(#"a\b'c"#) == #"E'a\\b''c'"#)
        #expect(PQQuery.quoteLiteral("") == "''")
        let query: PQQuery = "SELECT \(Int64(1)) WHERE type = \(literal: "x'y")"
        #expect(query.sql == "SELECT $1 WHERE type = 'x''y'")
        #expect(query.parameters.count == 1)
    }

    @Test func aLiteralReadsBackAsItsValueWhateverTheStringSettings() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let hostile = [#"'); DROP TABLE x; --"#, #"back\slash\'quote"#, "ü ' \\ $1 $$", "\n", ""]
            for conforming in ["on", "off"] {
                try await database.client.withConnection { connection in
                    try await connection.execute(PQQuery(unsafeSQL: "SET standard_conforming_strings = \(conforming)"))
                    for value in hostile {
                        let read = try await connection.query("SELECT \(literal: value)::text")[0].decode(String.self, at: 0)
                        #expect(read == value, "standard_conforming_strings = \(conforming)")
                    }
                    try await connection.execute("RESET standard_conforming_strings")
                }
            }
        }
    }
}
