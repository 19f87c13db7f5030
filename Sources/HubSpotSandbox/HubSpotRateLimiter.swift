import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit
import Synchronization

/// HubSpot's limits: a rolling window (e.g. 100 requests per 10 s), a daily budget (resetting at midnight UTC), and a
/// separate per-second limit for search. Search responses carry no rate-limit headers; `/events/v3/send` is outside
/// both the window and the daily budget, associations-v4 batch calls are outside the window only.
final class HubSpotRateLimiter: Sendable {
    /// How a request is counted.
    enum Bucket: Equatable {
        case search
        case standard
        /// Counted against the daily budget only.
        case windowExempt
        /// Not counted at all.
        case exempt
    }

    /// The outcome for one request.
    struct Decision {
        var refusal: HubSpotError?
        var headers: [(String, String)]
    }

    private struct State {
        var window: RollingWindowLimiter
        var search: RollingWindowLimiter
        var dailyLimit: Int
        var dailyUsed = 0
        var day: String
        var limited = 0
    }

    private let state: Mutex<State>
    private let portalID: Int
    private let windowMilliseconds: Int

    init(limit: Int, window: Duration, dailyLimit: Int, searchPerSecond: Int, portalID: Int) {
        self.portalID = portalID
        let components = window.components
        self.windowMilliseconds = Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
        self.state = Mutex(
            State(
                window: RollingWindowLimiter(limit: limit, window: window),
                search: RollingWindowLimiter(limit: searchPerSecond, window: .seconds(1)), dailyLimit: dailyLimit,
                day: HubSpotTime.day(Date())))
    }

    /// Which bucket a path falls in.
    static func bucket(method: String, path: String) -> Bucket {
        let segments = path.split(separator: "/")
        if method == "POST", segments.count == 5, segments[0] == "crm", segments[1] == "v3", segments[2] == "objects",
            segments[4] == "search"
        {
            return .search
        }
        if path.hasPrefix("/events/v3/send") { return .exempt }
        if segments.count >= 6, segments[0] == "crm", segments[1] == "v4", segments[2] == "associations", segments[5] == "batch" {
            return .windowExempt
        }
        return .standard
    }

    /// Counts a request and says whether it may go ahead, with the headers its response carries.
    func admit(_ bucket: Bucket, now: ContinuousClock.Instant = .now) -> Decision {
        state.withLock { state in
            let today = HubSpotTime.day(Date())
            if today != state.day {
                state.day = today
                state.dailyUsed = 0
            }
            switch bucket {
            case .search:
                let decision = state.search.acquire(at: now)
                if decision.allowed { return Decision(refusal: nil, headers: []) }
                state.limited += 1
                var error = HubSpotError(
                    status: 429, category: "RATE_LIMITS", message: "You have reached your secondly limit.")
                error.extra = ["errorType": "RATE_LIMIT", "policyName": "SECONDLY"]
                return Decision(refusal: error, headers: [])
            case .exempt:
                return Decision(refusal: nil, headers: headers(&state, now: now))
            case .standard, .windowExempt:
                if state.dailyUsed >= state.dailyLimit {
                    state.limited += 1
                    return Decision(refusal: dailyError(), headers: headers(&state, now: now))
                }
                if bucket == .standard {
                    let decision = state.window.acquire(at: now)
                    if !decision.allowed {
                        state.limited += 1
                        return Decision(refusal: windowError(), headers: headers(&state, now: now))
                    }
                }
                state.dailyUsed += 1
                return Decision(refusal: nil, headers: headers(&state, now: now))
            }
        }
    }

    /// How many requests were answered 429 so far.
    var limitedCount: Int {
        state.withLock { $0.limited }
    }

    /// Requests counted against the daily budget today.
    var dailyUsed: Int {
        state.withLock { $0.dailyUsed }
    }

    /// Forgets every counted request (the window, search and today's budget).
    func reset() {
        state.withLock { state in
            state.window.reset()
            state.search.reset()
            state.dailyUsed = 0
        }
    }

    private func headers(_ state: inout State, now: ContinuousClock.Instant) -> [(String, String)] {
        [
            ("X-HubSpot-RateLimit-Daily", String(state.dailyLimit)),
            ("X-HubSpot-RateLimit-Daily-Remaining", String(max(0, state.dailyLimit - state.dailyUsed))),
            ("X-HubSpot-RateLimit-Interval-Milliseconds", String(windowMilliseconds)),
            ("X-HubSpot-RateLimit-Max", String(state.window.limit)),
            ("X-HubSpot-RateLimit-Remaining", String(state.window.remaining(at: now))),
        ]
    }

    private func windowError() -> HubSpotError {
        var error = HubSpotError(status: 429, category: "RATE_LIMITS", message: "You have reached your ten_secondly_rolling limit.")
        error.extra = [
            "errorType": "RATE_LIMIT", "correlationId": .string(error.correlationID), "policyName": "TEN_SECONDLY_ROLLING",
            "groupName": .string("publicapi:hapikey-api-calls-ten-secondly:\(portalID)"),
        ]
        error.omitCategory = true
        return error
    }

    private func dailyError() -> HubSpotError {
        var error = HubSpotError(status: 429, category: "RATE_LIMITS", message: "You have reached your daily limit.")
        error.extra = [
            "errorType": "RATE_LIMIT", "correlationId": .string(error.correlationID), "policyName": "DAILY",
            "requestId": .string(UUID().uuidString.lowercased()),
        ]
        error.omitCategory = true
        return error
    }
}

/// Applies ``HubSpotRateLimiter`` and adds its headers to every response but search's.
struct HubSpotRateLimitMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext

    let limiter: HubSpotRateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let bucket = HubSpotRateLimiter.bucket(method: request.method.rawValue, path: request.uri.path)
        let decision = limiter.admit(bucket)
        if var refusal = decision.refusal {
            refusal.headers += decision.headers
            return HubSpotResponses.make(refusal)
        }
        var response = try await next(request, context)
        for (name, value) in decision.headers {
            if let name = HTTPField.Name(name) { response.headers[name] = value }
        }
        return response
    }
}
