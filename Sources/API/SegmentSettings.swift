import Foundation

/// The source settings HubSignal serves at `GET /v1/projects/{writeKey}/settings`, in place of Segment's CDN
/// (`cdn.segment.com` for analytics.js, `cdn-settings.segment.com` for the mobile SDKs).
///
/// It holds only what the SDKs read to send to HubSignal: the `Segment.io` integration with the write key (`apiKey`,
/// which analytics-next copies into every body as `writeKey`) and, when `HUBSIGNAL_PUBLIC_URL` is set, where to send
/// (`apiHost` and `protocol`; analytics-swift and analytics-kotlin switch to the `apiHost` they are given). No other
/// destinations are listed, so an SDK loads no device-mode integrations; `metrics.sampleRate` 0 keeps analytics-next
/// from sending its own metrics to Segment.
struct SegmentSettings: Encodable, Sendable {
    struct SegmentIO: Encodable, Sendable {
        var apiKey: String
        var apiHost: String?
        var `protocol`: String?
        var unbundledIntegrations: [String] = []
        var addBundledMetadata = true
        var maybeBundledConfigIds: [String: [String]] = [:]
    }
    struct Integrations: Encodable, Sendable {
        var segmentIO: SegmentIO
        enum CodingKeys: String, CodingKey { case segmentIO = "Segment.io" }
    }
    struct Metrics: Encodable, Sendable {
        var sampleRate = 0
    }
    struct Empty: Encodable, Sendable {}
    struct TrackingPlan: Encodable, Sendable {
        struct Rule: Encodable, Sendable {
            var enabled = true
            var integrations = Empty()
        }
        struct Default: Encodable, Sendable {
            var `__default` = Rule()
        }
        var track = Default()
        var identify = Default()
        var group = Default()
    }

    var integrations: Integrations
    var plan = TrackingPlan()
    var edgeFunction = Empty()
    var analyticsNextEnabled = true
    var middlewareSettings = Empty()
    var enabledMiddleware = Empty()
    var metrics = Metrics()
    var legacyVideoPluginsEnabled = false
    var remotePlugins: [String] = []

    /// The settings of `writeKey`; `publicURL` (`HUBSIGNAL_PUBLIC_URL`) gives `apiHost` and `protocol`.
    init(writeKey: String, publicURL: String?) {
        let host = publicURL.flatMap(Self.apiHost)
        integrations = Integrations(segmentIO: SegmentIO(apiKey: writeKey, apiHost: host?.apiHost, protocol: host?.protocol))
    }

    /// The SDKs' `apiHost` (host, port and path without the scheme, ending in `/v1`) and `protocol` of a public URL:
    /// `https://hubsignal.example.com` gives `hubsignal.example.com/v1` and `https`.
    static func apiHost(of publicURL: String) -> (apiHost: String, protocol: String)? {
        guard let components = URLComponents(string: publicURL), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return nil }
        var apiHost = host
        if let port = components.port { apiHost += ":\(port)" }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        return (apiHost + path + "/v1", scheme)
    }
}
