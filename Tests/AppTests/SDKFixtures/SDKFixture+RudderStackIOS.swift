extension SDKFixture {
    /// RudderStack's iOS SDK (`Rudder`): `{dataPlaneUrl}/v1/batch`, Basic, `application/json`, `AnonymousId`, gzip
    /// when enabled (`RSNetworkManager.m`); the body is built as text like Android's (`RSCloudModeManager.m`
    /// `getPayloadFromMessages`).
    static let rudderIOS = SDKFixture(
        sdk: "rudder-sdk-ios", version: "1.31.0", commit: "rudderlabs/rudder-sdk-ios@dcf152d",
        sources: ["Sources/Classes/RSNetworkManager.m", "Sources/Classes/RSCloudModeManager.m"],
        requests: [
            Request(
                path: "/v1/batch",
                headers: [("Authorization", "Basic {basic}"), ("Content-Type", "application/json"), anonymousIDHeader("RS-IOS-ANON")],
                body: #"{"sentAt":"2026-12-06T11:09:20.000Z","batch":[{"messageId":"1796555350000-b8c9d0e1-f2a3-4b4c-9d6e-7f8091a2b3c4","channel":"mobile","context":{"app":{"build":"7","name":"ShopiOS","namespace":"com.example.shopios","version":"1.0"},"device":{"manufacturer":"Apple","model":"iPhone","name":"iPhone","type":"iOS"},"library":{"name":"rudder-ios-library","version":"1.31.0"},"os":{"name":"iOS","version":"18.1"},"locale":"en-US","traits":{"anonymousId":"RS-IOS-ANON"}},"originalTimestamp":"2026-12-06T11:09:15.000Z","anonymousId":"RS-IOS-ANON","type":"screen","event":"Catalog","properties":{"name":"Catalog"},"integrations":{"All":true},"sentAt":"2026-12-06T11:09:20.000Z"}]}"#)
        ],
        events: [Event(messageID: "1796555350000-b8c9d0e1-f2a3-4b4c-9d6e-7f8091a2b3c4", type: "screen", stream: "anonymous:RS-IOS-ANON")], retryRule: .untilOK)
}
