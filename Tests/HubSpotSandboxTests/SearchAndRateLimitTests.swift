import Foundation
import HubSpotSandbox
import SandboxKit
import Testing

@Suite("HubSpot sandbox: search and rate limits")
struct SearchAndRateLimitTests {
    @Test func searchFiltersSortsAndPages() async throws {
        try await withSandbox(.init(accessToken: testToken, searchRequestsPerSecond: 100)) { sandbox, client in
            try sandbox.defineProperty(HubSpotProperty(name: "visits", type: .number), on: "contacts")
            for index in 1...25 {
                try sandbox.seedObject(
                    ofType: "contacts",
                    properties: ["email": "user\(index)@example.com", "visits": String(index), "city": index % 2 == 0 ? "Paris" : "Berlin Mitte"])
            }
            let body = #"""
                {"filterGroups":[{"filters":[{"propertyName":"visits","operator":"GTE","value":"10"},{"propertyName":"city","operator":"EQ","value":"paris"}]},
                                 {"filters":[{"propertyName":"email","operator":"IN","values":["user1@example.com"]}]}],
                 "sorts":[{"propertyName":"visits","direction":"DESCENDING"}],"properties":["email","visits"],"limit":3}
                """#
            let first = try await client.post("/crm/v3/objects/contacts/search", body)
            #expect(first.status == 200)
            #expect(first.json["total"] as? Int == 9)
            #expect(first.json.array("results").compactMap { $0.object("properties").string("visits") } == ["24", "22", "20"])
            #expect(first.json.object("paging").object("next").string("after") == "3")
            #expect(first.header("X-HubSpot-RateLimit-Max") == nil)
            #expect(first.header("X-HubSpot-Correlation-Id")?.count == 36)

            let last = try await client.post(
                "/crm/v3/objects/contacts/search", body.replacingOccurrences(of: #""limit":3"#, with: #""limit":3,"after":"6""#))
            #expect(last.json.array("results").compactMap { $0.object("properties").string("visits") } == ["12", "10", "1"])
            #expect(last.json["paging"] == nil)

            let token = try await client.post(
                "/crm/v3/objects/contacts/search",
                #"{"filterGroups":[{"filters":[{"propertyName":"city","operator":"CONTAINS_TOKEN","value":"mitte"},{"propertyName":"phone","operator":"NOT_HAS_PROPERTY"}]}],"sorts":["visits"],"limit":200}"#)
            #expect(token.json["total"] as? Int == 13)
            #expect(token.json.array("results").first?.object("properties").string("email") == "user1@example.com")

            let tooBig = try await client.post("/crm/v3/objects/contacts/search", #"{"limit":201}"#)
            #expect(tooBig.status == 400)
            let pastCap = try await client.post("/crm/v3/objects/contacts/search", #"{"limit":100,"after":"9950"}"#)
            #expect(pastCap.status == 400)
            let badOperator = try await client.post(
                "/crm/v3/objects/contacts/search", #"{"filterGroups":[{"filters":[{"propertyName":"city","operator":"LIKE","value":"x"}]}]}"#)
            #expect(badOperator.status == 400)
        }
    }

    @Test func searchLagsBehindWritesWhenConfigured() async throws {
        let configuration = HubSpotSandbox.Configuration(
            accessToken: testToken, searchRequestsPerSecond: 100, searchIndexingDelay: .milliseconds(400))
        // The first search must come within the 400 ms lag; on a machine too busy for that, the round is repeated.
        var measured = false
        for _ in 0..<5 where !measured {
            try await withSandbox(configuration) { sandbox, client in
                try sandbox.seedObject(ofType: "contacts", properties: ["email": "old@example.com"], at: Date(timeIntervalSinceNow: -60))
                let byName = #"{"filterGroups":[{"filters":[{"propertyName":"firstname","operator":"EQ","value":"Ada"}]}]}"#
                let written = ContinuousClock.now
                let upsert = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsertBody([("ada@example.com", ["firstname": "Ada"])]))
                #expect(upsert.status == 200)
                let early = try await client.post("/crm/v3/objects/contacts/search", "{}")
                guard ContinuousClock.now - written < .milliseconds(300) else { return }
                measured = true
                #expect(early.json.array("results").compactMap { $0.object("properties").string("email") } == ["old@example.com"])
                try await Task.sleep(for: .milliseconds(500))
                let later = try await client.post("/crm/v3/objects/contacts/search", byName)
                #expect(later.json["total"] as? Int == 1)

                let rename = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsertBody([("ada@example.com", ["firstname": "Augusta"])]))
                #expect(rename.status == 200)
                let stale = try await client.post("/crm/v3/objects/contacts/search", byName)
                #expect(stale.json["total"] as? Int == 1)
                try await Task.sleep(for: .milliseconds(500))
                let fresh = try await client.post("/crm/v3/objects/contacts/search", byName)
                #expect(fresh.json["total"] as? Int == 0)
            }
        }
        #expect(measured, "five rounds each took longer than the search lag")
    }

    @Test func searchHasItsOwnPerSecondLimit() async throws {
        // The four searches must fall within one second; on a machine too busy for that, the round is repeated.
        var measured = false
        for _ in 0..<5 where !measured {
            try await withSandbox(.init(accessToken: testToken, rateLimit: 2, searchRequestsPerSecond: 3)) { sandbox, client in
                var statuses: [Int] = []
                let start = ContinuousClock.now
                for _ in 0..<4 {
                    statuses.append(try await client.post("/crm/v3/objects/contacts/search", "{}").status)
                }
                guard ContinuousClock.now - start < .milliseconds(900) else { return }
                measured = true
                #expect(statuses == [200, 200, 200, 429])
                let limited = try #require(sandbox.requests.all.last)
                #expect(limited.status == 429)
                #expect(sandbox.rateLimitedResponses == 1)
                // The ten-secondly window was not touched by search.
                let list = try await client.get("/crm/v3/objects/contacts")
                #expect(list.status == 200)
                #expect(list.header("X-HubSpot-RateLimit-Remaining") == "1")
            }
        }
        #expect(measured, "five rounds each took longer than the one-second window")
    }

    @Test func tenSecondlyWindowAnswers429WithHubSpotsBody() async throws {
        try await withSandbox(.init(accessToken: testToken, rateLimit: 3, rateLimitWindow: .seconds(60), dailyLimit: 1000)) { sandbox, client in
            var remaining: [String?] = []
            for _ in 0..<3 {
                let response = try await client.get("/crm/v3/objects/contacts")
                #expect(response.status == 200)
                remaining.append(response.header("X-HubSpot-RateLimit-Remaining"))
                #expect(response.header("X-HubSpot-RateLimit-Max") == "3")
                #expect(response.header("X-HubSpot-RateLimit-Interval-Milliseconds") == "60000")
                #expect(response.header("X-HubSpot-RateLimit-Daily") == "1000")
            }
            #expect(remaining == ["2", "1", "0"])
            let limited = try await client.get("/crm/v3/objects/contacts")
            #expect(limited.status == 429)
            #expect(limited.header("X-HubSpot-RateLimit-Remaining") == "0")
            #expect(limited.header("X-HubSpot-RateLimit-Daily-Remaining") == "997")
            let body = limited.json
            #expect(body.string("status") == "error")
            #expect(body.string("message") == "You have reached your ten_secondly_rolling limit.")
            #expect(body.string("errorType") == "RATE_LIMIT")
            #expect(body.string("policyName") == "TEN_SECONDLY_ROLLING")
            #expect(body.string("groupName") == "publicapi:hapikey-api-calls-ten-secondly:12345678")
            #expect(body.string("correlationId")?.count == 36)
            #expect(limited.header("X-HubSpot-Correlation-Id") == body.string("correlationId"))
            #expect(limited.text.hasPrefix(#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"#))

            // Exempt from the window: events and associations-v4 batch calls.
            _ = sandbox.defineBehavioralEvent(name: "x")
            let event = try await client.post("/events/v3/send", #"{"eventName":"pe12345678_x","utk":"abc","properties":{}}"#)
            #expect(event.status == 204)
            let batch = try await client.post("/crm/v4/associations/contact/company/batch/read", #"{"inputs":[]}"#)
            #expect(batch.status == 200)
            #expect(sandbox.rateLimitedResponses == 1)
        }
    }

    @Test func dailyBudgetAnswers429Daily() async throws {
        try await withSandbox(.init(accessToken: testToken, rateLimit: 100, dailyLimit: 2)) { _, client in
            #expect(try await client.get("/crm/v3/objects/contacts").status == 200)
            #expect(try await client.get("/crm/v3/objects/contacts").status == 200)
            let limited = try await client.get("/crm/v3/objects/contacts")
            #expect(limited.status == 429)
            #expect(limited.json.string("policyName") == "DAILY")
            #expect(limited.json.string("message") == "You have reached your daily limit.")
            #expect(limited.header("X-HubSpot-RateLimit-Daily-Remaining") == "0")
        }
    }

    @Test func rollingWindowLimiterCountsAndExpires() {
        var limiter = RollingWindowLimiter(limit: 2, window: .seconds(10))
        let start = ContinuousClock.now
        #expect(limiter.acquire(at: start).remaining == 1)
        #expect(limiter.acquire(at: start + .seconds(1)).remaining == 0)
        let refused = limiter.acquire(at: start + .seconds(2))
        #expect(!refused.allowed)
        #expect(refused.resetAfter == .seconds(8))
        #expect(limiter.acquire(at: start + .seconds(10)).allowed)
        #expect(limiter.remaining(at: start + .seconds(10)) == 0)
        #expect(limiter.remaining(at: start + .seconds(11)) == 1)
    }

    /// The spec types `sorts` as strings and marks `after` required; the docs send objects and no `after`. Both forms are
    /// served, and a missing `after` is the first page (docs/hubspot-contract.md, "Search bodies").
    @Test func searchTakesBothSortFormsAndNoAfter() async throws {
        try await withSandbox(.init(accessToken: testToken, searchRequestsPerSecond: 100)) { sandbox, client in
            for index in 1...3 {
                try sandbox.seedObject(ofType: "contacts", properties: ["email": "user\(index)@example.com", "firstname": "N\(index)"])
            }
            let objects = try await client.post(
                "/crm/v3/objects/contacts/search",
                #"{"filterGroups":[],"sorts":[{"propertyName":"firstname","direction":"DESCENDING"}],"properties":["firstname"],"limit":10}"#)
            let strings = try await client.post(
                "/crm/v3/objects/contacts/search", #"{"filterGroups":[],"sorts":["-firstname"],"properties":["firstname"],"limit":10}"#)
            for response in [objects, strings] {
                #expect(response.status == 200)
                #expect(response.json.array("results").compactMap { $0.object("properties").string("firstname") } == ["N3", "N2", "N1"])
            }
        }
    }
}
