// The request-body schemas of the official OneSignal OpenAPI document v5.12.0 (MIT, OneSignal/onesignal-go-api
// `api/openapi.yaml`, copied in `shared/specs/onesignal/`), as `Schema` values.
// Generated: do not edit; run `scripts/generate-onesignal-schemas.py <spec.yaml>`.
// `$ref`, `allOf` and `anyOf` are resolved and merged, read-only members are left out, `oneOf` (FilterExpression)
// becomes `anyOf`. Member names, types, `nullable`, `enum`, `maxLength`, `required`, `additionalProperties`,
// `minProperties` and `maxProperties` are the spec's. None of these schemas says `additionalProperties: false`, so
// unknown members are accepted, as the spec allows.

/// The OneSignal request bodies the sandbox validates, as the OpenAPI document v5.12.0 defines them.
enum OneSignalSchemas {
    /// `components.schemas.Notification`
    static let notification: Schema = .object(properties: [
        "included_segments": .array(.string()),
        "excluded_segments": .array(.string()),
        "include_subscription_ids": .array(.string(), nullable: true),
        "include_email_tokens": .array(.string()),
        "email_to": .array(.string()),
        "include_phone_numbers": .array(.string()),
        "include_ios_tokens": .array(.string()),
        "include_wp_wns_uris": .array(.string()),
        "include_amazon_reg_ids": .array(.string()),
        "include_chrome_reg_ids": .array(.string()),
        "include_chrome_web_reg_ids": .array(.string()),
        "include_android_reg_ids": .array(.string()),
        "include_aliases": .object(additionalProperties: .array(.string()), nullable: true),
        "target_channel": .string(enumeration: ["push", "email", "sms"]),
        "id": .string(),
        "name": .string(nullable: true),
        "isIos": .boolean(nullable: true),
        "isAndroid": .boolean(nullable: true),
        "isHuawei": .boolean(nullable: true),
        "isAnyWeb": .boolean(nullable: true),
        "isChromeWeb": .boolean(nullable: true),
        "isFirefox": .boolean(nullable: true),
        "isSafari": .boolean(nullable: true),
        "isWP_WNS": .boolean(nullable: true),
        "isAdm": .boolean(nullable: true),
        "isChrome": .boolean(nullable: true),
        "app_id": .string(),
        "external_id": .string(nullable: true),
        "idempotency_key": .string(nullable: true),
        "contents": languageStringMap,
        "headings": languageStringMap,
        "subtitle": languageStringMap,
        "data": .object(nullable: true),
        "huawei_msg_type": .string(nullable: true),
        "url": .string(nullable: true),
        "web_url": .string(nullable: true),
        "app_url": .string(nullable: true),
        "ios_attachments": .object(nullable: true),
        "template_id": .string(nullable: true),
        "content_available": .boolean(nullable: true),
        "mutable_content": .boolean(),
        "target_content_identifier": .string(nullable: true),
        "big_picture": .string(nullable: true),
        "global_image": .string(nullable: true),
        "huawei_big_picture": .string(nullable: true),
        "adm_big_picture": .string(nullable: true),
        "chrome_big_picture": .string(nullable: true),
        "chrome_web_image": .string(nullable: true),
        "buttons": .array(button, nullable: true),
        "web_buttons": .array(webButton, nullable: true),
        "ios_category": .string(nullable: true),
        "android_channel_id": .string(nullable: true),
        "huawei_channel_id": .string(nullable: true),
        "existing_android_channel_id": .string(nullable: true),
        "huawei_existing_channel_id": .string(nullable: true),
        "android_background_layout": .object(properties: [
            "image": .string(),
            "headings_color": .string(),
            "contents_color": .string(),
        ]),
        "small_icon": .string(nullable: true),
        "huawei_small_icon": .string(nullable: true),
        "large_icon": .string(nullable: true),
        "huawei_large_icon": .string(nullable: true),
        "adm_small_icon": .string(nullable: true),
        "adm_large_icon": .string(nullable: true),
        "chrome_web_icon": .string(nullable: true),
        "chrome_web_badge": .string(nullable: true),
        "firefox_icon": .string(nullable: true),
        "chrome_icon": .string(nullable: true),
        "ios_sound": .string(nullable: true),
        "android_sound": .string(nullable: true),
        "huawei_sound": .string(nullable: true),
        "adm_sound": .string(nullable: true),
        "wp_wns_sound": .string(nullable: true),
        "android_led_color": .string(nullable: true),
        "huawei_led_color": .string(nullable: true),
        "android_accent_color": .string(nullable: true),
        "huawei_accent_color": .string(nullable: true),
        "android_visibility": .integer(nullable: true),
        "huawei_visibility": .integer(nullable: true),
        "ios_badgeType": .string(nullable: true),
        "ios_badgeCount": .integer(nullable: true),
        "collapse_id": .string(),
        "web_push_topic": .string(nullable: true),
        "apns_alert": .object(nullable: true),
        "delayed_option": .string(nullable: true),
        "delivery_time_of_day": .string(nullable: true),
        "ttl": .integer(nullable: true),
        "priority": .integer(nullable: true),
        "apns_push_type_override": .string(),
        "throttle_rate_per_minute": .string(nullable: true),
        "android_group": .string(nullable: true),
        "android_group_message": .string(nullable: true),
        "adm_group": .string(nullable: true),
        "adm_group_message": .object(nullable: true),
        "thread_id": .string(nullable: true),
        "summary_arg": .string(),
        "summary_arg_count": .integer(),
        "ios_relevance_score": .number(nullable: true),
        "ios_interruption_level": .string(nullable: true),
        "email_subject": .string(nullable: true),
        "email_body": .string(),
        "email_from_name": .string(nullable: true),
        "email_from_address": .string(nullable: true),
        "email_reply_to_address": .string(nullable: true),
        "email_preheader": .string(nullable: true),
        "disable_email_click_tracking": .boolean(nullable: true),
        "include_unsubscribed": .boolean(nullable: true),
        "email_bcc": .array(.string(), nullable: true),
        "email_sender_domain": .string(nullable: true),
        "sms_from": .string(nullable: true),
        "sms_media_urls": .array(.string(), nullable: true),
        "filters": .array(filterExpression, nullable: true),
        "custom_data": .object(nullable: true),
        "huawei_badge_class": .string(nullable: true),
        "huawei_badge_add_num": .integer(nullable: true),
        "huawei_badge_set_num": .integer(nullable: true),
        "huawei_category": .string(enumeration: ["IM", "VOIP", "SUBSCRIPTION", "TRAVEL", "HEALTH", "WORK", "ACCOUNT", "EXPRESS", "FINANCE", "DEVICE_REMINDER", "MAIL", "MARKETING"], nullable: true),
        "huawei_bi_tag": .string(nullable: true),
        "send_after": .string(nullable: true),
    ], required: ["app_id"])

    /// `components.schemas.User`
    static let user: Schema = .object(properties: [
        "properties": propertiesObject,
        "identity": .object(additionalProperties: .string()),
        "subscriptions": .array(subscription),
    ])

    /// `components.schemas.UpdateUserRequest`
    static let updateUserRequest: Schema = .object(properties: [
        "properties": propertiesObject,
        "refresh_device_metadata": .boolean(),
        "deltas": propertiesDeltas,
    ])

    /// `components.schemas.SubscriptionBody`
    static let subscriptionBody: Schema = .object(properties: [
        "subscription": subscription,
    ])

    /// `components.schemas.UserIdentityBody`
    static let userIdentityBody: Schema = .object(properties: [
        "identity": .object(additionalProperties: .string()),
    ])

    /// `components.schemas.TransferSubscriptionRequestBody`
    static let transferSubscriptionRequestBody: Schema = .object(properties: [
        "identity": .object(additionalProperties: .string(), minProperties: 1, maxProperties: 1),
    ])

    /// `components.schemas.Segment`
    static let segment: Schema = .object(properties: [
        "id": .string(),
        "name": .string(),
        "filters": .array(filterExpression),
    ], required: ["filters", "name"])

    /// `components.schemas.UpdateSegmentRequest`
    static let updateSegmentRequest: Schema = .object(properties: [
        "name": .string(maxLength: 128),
        "description": .string(maxLength: 255),
        "filters": .array(filterExpression),
    ], required: ["name"])

    /// `components.schemas.PropertiesObject`
    static let propertiesObject: Schema = .object(properties: [
        "tags": .object(),
        "language": .string(),
        "timezone_id": .string(),
        "lat": .number(),
        "long": .number(),
        "country": .string(),
        "first_active": .integer(),
        "last_active": .integer(),
        "amount_spent": .number(),
        "purchases": .array(purchase),
        "ip": .string(),
    ])

    /// `components.schemas.PropertiesDeltas`
    static let propertiesDeltas: Schema = .object(properties: [
        "session_time": .integer(),
        "session_count": .integer(),
        "purchases": .array(purchase),
    ])

    /// `components.schemas.Subscription`
    static let subscription: Schema = .object(properties: [
        "id": .string(),
        "type": .string(enumeration: ["iOSPush", "AndroidPush", "FireOSPush", "ChromeExtensionPush", "ChromePush", "WindowsPush", "SafariLegacyPush", "FirefoxPush", "macOSPush", "HuaweiPush", "SafariPush", "Email", "SMS"]),
        "token": .string(),
        "enabled": .boolean(),
        "notification_types": .integer(),
        "session_time": .integer(),
        "session_count": .integer(),
        "sdk": .string(),
        "device_model": .string(),
        "device_os": .string(),
        "rooted": .boolean(),
        "test_type": .integer(),
        "app_version": .string(),
        "net_type": .integer(),
        "carrier": .string(),
        "web_auth": .string(),
        "web_p256": .string(),
    ])

    /// `components.schemas.Purchase`
    static let purchase: Schema = .object(properties: [
        "sku": .string(),
        "amount": .string(),
        "iso": .string(),
        "count": .integer(),
    ], required: ["amount", "iso", "sku"])

    /// `components.schemas.FilterExpression`
    static let filterExpression: Schema = .anyOf([.object(properties: [
        "field": .string(),
        "key": .string(),
        "value": .string(),
        "hours_ago": .string(),
        "radius": .number(),
        "lat": .number(),
        "long": .number(),
        "relation": .string(enumeration: [">", "<", "=", "!=", "exists", "not_exists", "time_elapsed_gt", "time_elapsed_lt", "in_array", "not_in_array"]),
    ]), .object(properties: [
        "operator": .string(enumeration: ["OR", "AND"]),
    ])])

    /// `components.schemas.LanguageStringMap`
    static let languageStringMap: Schema = .object(properties: [
        "en": .string(),
        "ar": .string(),
        "bs": .string(),
        "bg": .string(),
        "ca": .string(),
        "zh-Hans": .string(),
        "zh-Hant": .string(),
        "zh": .string(),
        "hr": .string(),
        "cs": .string(),
        "da": .string(),
        "nl": .string(),
        "et": .string(),
        "fi": .string(),
        "fr": .string(),
        "ka": .string(),
        "de": .string(),
        "el": .string(),
        "hi": .string(),
        "he": .string(),
        "hu": .string(),
        "id": .string(),
        "it": .string(),
        "ja": .string(),
        "ko": .string(),
        "lv": .string(),
        "lt": .string(),
        "ms": .string(),
        "nb": .string(),
        "pl": .string(),
        "fa": .string(),
        "pt": .string(),
        "pa": .string(),
        "ro": .string(),
        "ru": .string(),
        "sr": .string(),
        "sk": .string(),
        "es": .string(),
        "sv": .string(),
        "th": .string(),
        "tr": .string(),
        "uk": .string(),
        "vi": .string(),
    ])

    /// `components.schemas.Button`
    static let button: Schema = .object(properties: [
        "id": .string(),
        "text": .string(),
        "icon": .string(),
    ], required: ["id"])

    /// `components.schemas.WebButton`
    static let webButton: Schema = .object(properties: [
        "id": .string(),
        "text": .string(),
        "icon": .string(),
        "url": .string(),
    ], required: ["id"])
}
