extension SDKFixture {
    /// `segmentio/analytics-php` with its default `lib_curl` consumer and `compress_request` on: `/v1/batch`,
    /// `CURLOPT_USERPWD` `"<key>:"` (Basic), `Content-Type: application/json`, `Content-Encoding: gzip`, `User-Agent`
    /// from the first message's library, body `{batch, sentAt: date('c')}` (`lib/Consumer/LibCurl.php`,
    /// `lib/Consumer/QueueConsumer.php` `payload`, `lib/Client.php` `message`, `formatTime`).
    static let analyticsPHP = SDKFixture(
        sdk: "segmentio/analytics-php", version: "3.8.2", commit: "segmentio/analytics-php@a910e17",
        sources: ["lib/Consumer/LibCurl.php", "lib/Consumer/QueueConsumer.php", "lib/Client.php"],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [
                    ("Authorization", "Basic {basic}"), ("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                    ("User-Agent", "analytics-php/3.8.2"),
                ],
                body: #"{"batch":[{"userId":"user-php-1","event":"Subscription Renewed","properties":{"plan":"yearly"},"type":"track","context":{"library":{"name":"analytics-php","version":"3.8.2","consumer":"LibCurl"}},"timestamp":"2026-12-06T11:09:00+00:00","messageId":"7d8c9b0a-1f2e-4d45-86a7-b8c9d0e1f2a3"},{"previousId":"php-anon-1","userId":"user-php-1","type":"alias","context":{"library":{"name":"analytics-php","version":"3.8.2","consumer":"LibCurl"}},"timestamp":"2026-12-06T11:09:00.250000+00:00","messageId":"8e9d0c1b-2a3f-4e56-97b8-c9d0e1f2a3b4"}],"sentAt":"2026-12-06T11:09:01+00:00"}"#,
                isGzipped: true)
        ],
        events: [
            Event(messageID: "7d8c9b0a-1f2e-4d45-86a7-b8c9d0e1f2a3", type: "track", stream: "user:user-php-1"),
            Event(messageID: "8e9d0c1b-2a3f-4e56-97b8-c9d0e1f2a3b4", type: "alias", stream: "user:user-php-1"),
        ], retryRule: .rateLimitAndServerErrors)
}
