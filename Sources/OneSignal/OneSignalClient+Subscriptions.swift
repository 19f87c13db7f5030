extension OneSignalClient {
    /// An email or SMS subscription created with a user (`subscriptions` of `POST /apps/{app_id}/users`).
    public struct NewSubscription: Encodable, Sendable, Hashable {
        /// `Email` or `SMS`.
        public var type: String
        /// The email address, or the phone number in E.164 form (`+442079460958`), which OneSignal requires.
        public var token: String
        public var enabled = true

        /// An email subscription for `address`.
        public static func email(_ address: String) -> Self { Self(type: "Email", token: address) }
        /// An SMS subscription for `number`, already in E.164 form.
        public static func sms(_ number: String) -> Self { Self(type: "SMS", token: number) }
    }
}
