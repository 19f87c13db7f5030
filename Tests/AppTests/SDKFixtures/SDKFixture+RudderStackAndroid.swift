extension SDKFixture {
    /// RudderStack's Android SDK (`com.rudderstack.android.sdk:core`): `{dataPlaneUrl}/v1/batch`, Basic,
    /// `Content-Type: application/json`, `AnonymousId`, gzip on by default (`RudderNetworkManager.java`,
    /// `Constants.DEFAULT_GZIP_ENABLED`); the body is built as text: `{"sentAt":…,"batch": [` and each stored
    /// message with `"sentAt"` appended before its closing brace (`FlushUtils.java` `getPayloadFromMessages`).
    static let rudderAndroid = SDKFixture(
        sdk: "rudder-sdk-android", version: "1.28.0", commit: "rudderlabs/rudder-sdk-android@7fa2a1b",
        sources: [
            "core/src/main/java/com/rudderstack/android/sdk/core/RudderNetworkManager.java",
            "core/src/main/java/com/rudderstack/android/sdk/core/FlushUtils.java",
            "core/src/main/java/com/rudderstack/android/sdk/core/RudderCloudModeManager.java",
        ],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [
                    ("Authorization", "Basic {basic}"), ("Content-Type", "application/json"), anonymousIDHeader("rs-android-anon"),
                    ("Content-Encoding", "gzip"),
                ],
                body: #"{"sentAt":"2026-12-06T11:09:10.000Z","batch": [{"messageId":"f6a7b8c9-d0e1-4f2a-9b4c-5d6e7f8091a2","channel":"mobile","context":{"app":{"build":"42","name":"Shop","namespace":"com.example.shop","version":"4.2.0"},"traits":{"anonymousId":"rs-android-anon"},"library":{"name":"com.rudderstack.android.sdk.core","version":"1.28.0"},"os":{"name":"Android","version":"15"},"locale":"en-US","device":{"manufacturer":"Google","model":"Pixel 9","name":"tokay","type":"Android"},"network":{"wifi":true,"carrier":"","bluetooth":false,"cellular":false},"sessionId":1796555330000},"type":"track","action":"","originalTimestamp":"2026-12-06T11:09:00.000Z","anonymousId":"rs-android-anon","event":"Application Opened","properties":{"version":"4.2.0"},"integrations":{"All":true},"sentAt":"2026-12-06T11:09:10.000Z"},{"messageId":"a7b8c9d0-e1f2-4a3b-8c5d-6e7f8091a2b3","channel":"mobile","context":{"traits":{"anonymousId":"rs-android-anon","email":"droid@example.com","userId":"user-droid-1","id":"user-droid-1"},"library":{"name":"com.rudderstack.android.sdk.core","version":"1.28.0"}},"type":"identify","action":"","originalTimestamp":"2026-12-06T11:09:05.000Z","anonymousId":"rs-android-anon","userId":"user-droid-1","event":"identify","integrations":{"All":true},"sentAt":"2026-12-06T11:09:10.000Z"}]}"#,
                isGzipped: true)
        ],
        events: [
            Event(messageID: "f6a7b8c9-d0e1-4f2a-9b4c-5d6e7f8091a2", type: "track", stream: "anonymous:rs-android-anon"),
            Event(messageID: "a7b8c9d0-e1f2-4a3b-8c5d-6e7f8091a2b3", type: "identify", stream: "user:user-droid-1"),
        ], retryRule: .untilOK)
}
