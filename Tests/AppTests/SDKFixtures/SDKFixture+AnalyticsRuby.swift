extension SDKFixture {
    /// `analytics-ruby`: `Net::HTTP::Post` to `/v1/import` (`defaults.rb` `PATH`) with `Accept` and `Content-Type`
    /// `application/json`, `basic_auth(write_key, nil)`, body `{sentAt, batch}` and times `…00.123+01:00` or `…Z`
    /// (`transport.rb` `send_request`, `utils.rb` `time_in_iso8601`, `field_parser.rb`).
    static let analyticsRuby = SDKFixture(
        sdk: "analytics-ruby", version: "2.5.0", commit: "segmentio/analytics-ruby@df68ade",
        sources: ["lib/segment/analytics/transport.rb", "lib/segment/analytics/defaults.rb", "lib/segment/analytics/utils.rb", "lib/segment/analytics/field_parser.rb"],
        requests: [
            Request(
                path: "/v1/import",
                headers: [
                    ("Accept", "application/json"), ("Content-Type", "application/json"), ("User-Agent", "analytics-ruby/2.5.0"),
                    ("Authorization", "Basic {basic}"),
                ],
                body: #"{"sentAt":"2026-12-06T12:09:02.000+01:00","batch":[{"context":{"library":{"name":"analytics-ruby","version":"2.5.0"}},"messageId":"5b6a7f8e-9d0c-4b23-a4e5-f6a7b8c9d0e1","timestamp":"2026-12-06T12:09:00.456+01:00","userId":"user-rb-1","integrations":{},"type":"identify","traits":{"email":"ruby@example.com"}},{"context":{"library":{"name":"analytics-ruby","version":"2.5.0"}},"messageId":"6c7b8a9f-0e1d-4c34-b5f6-a7b8c9d0e1f2","timestamp":"2026-12-06T12:09:00.789+01:00","userId":"user-rb-1","integrations":{},"type":"group","groupId":"globex","traits":{"name":"Globex"}}]}"#)
        ],
        events: [
            Event(messageID: "5b6a7f8e-9d0c-4b23-a4e5-f6a7b8c9d0e1", type: "identify", stream: "user:user-rb-1"),
            Event(messageID: "6c7b8a9f-0e1d-4c34-b5f6-a7b8c9d0e1f2", type: "group", stream: "user:user-rb-1"),
        ], retryRule: .rateLimitAndServerErrors)
}
