import Domain
import Foundation
@testable import HubSpot
import Testing

@Suite struct HubSpotRateLimiterTests {
    @Test func requestsBeyondTheWindowWaitUntilTheOldestLeavesIt() async throws {
        let limiter = HubSpotRateLimiter(limit: 5, window: .milliseconds(400))
        let started = ContinuousClock.now
        for _ in 0..<5 { try await limiter.acquire() }
        #expect(ContinuousClock.now - started < .milliseconds(200))
        try await limiter.acquire()
        #expect(ContinuousClock.now - started >= .milliseconds(390))
    }

    @Test func hubSpotsHeadersCorrectTheBudget() async throws {
        let limiter = HubSpotRateLimiter(limit: 100)
        try await limiter.acquire()
        // Other clients of the account spent 50: HubSpot says 49 remain, not 99.
        await limiter.update(maximum: 100, remaining: 49, dailyRemaining: 1_000)
        #expect(await limiter.budget.remaining == 49)
        #expect(await limiter.budget.dailyRemaining == 1_000)
        // A lower maximum than configured wins.
        await limiter.update(maximum: 60, remaining: nil, dailyRemaining: nil)
        #expect(await limiter.budget.limit == 60)
    }

    @Test func aDailyLimitStopsSendingWithAClearError() async throws {
        let limiter = HubSpotRateLimiter(limit: 100)
        await limiter.update(maximum: nil, remaining: nil, dailyRemaining: 0)
        await #expect(throws: HubSpotError.self) { try await limiter.acquire() }
        do {
            try await limiter.acquire()
        } catch let error as HubSpotError {
            #expect(error.code == .dailyLimitReached)
            #expect(error.message.contains("daily API limit"))
        }
        #expect(await limiter.budget.dailyExhaustedUntil != nil)
    }

    @Test func a429PausesEveryoneForRetryAfter() async throws {
        let limiter = HubSpotRateLimiter(limit: 100)
        await limiter.rateLimited(retryAfter: .milliseconds(300), isDaily: false)
        let started = ContinuousClock.now
        try await limiter.acquire()
        #expect(ContinuousClock.now - started >= .milliseconds(290))
    }
}

@Suite struct HubSpotErrorTests {
    @Test func theEmbeddedPropertyErrorsOfAValidationMessageAreRead() {
        let body = #"{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"prop2\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"prop2\",\"localizedErrorMessage\":\"Property \\\"prop2\\\" does not exist\",\"portalId\":47373842}]","correlationId":"abc","category":"VALIDATION_ERROR"}"#
        let error = HubSpotError.from(status: 400, body: Array(body.utf8), retryAfterHeader: nil, intervalMilliseconds: nil)
        #expect(error.code == .validation)
        #expect(error.category == "VALIDATION_ERROR")
        #expect(error.missingProperties == ["prop2"])
        #expect(error.reason.contains("prop2"))
        #expect(!error.description.contains("Property values"))
    }

    @Test func rateLimitAnswersCarryTheWaitAndThePolicy() {
        let secondly = #"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}"#
        let error = HubSpotError.from(status: 429, body: Array(secondly.utf8), retryAfterHeader: nil, intervalMilliseconds: 10_000)
        #expect(error.code == .rateLimited)
        #expect(error.retryAfter == .seconds(10))
        #expect(error.isRetryable)
        let daily = #"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#
        let dailyError = HubSpotError.from(status: 429, body: Array(daily.utf8), retryAfterHeader: "2", intervalMilliseconds: nil)
        #expect(dailyError.code == .dailyLimitReached)
        #expect(dailyError.retryAfter == .seconds(2))
        let server = HubSpotError.from(status: 502, body: Array("<html>bad gateway</html>".utf8), retryAfterHeader: nil, intervalMilliseconds: nil)
        #expect(server.code == .server)
        #expect(server.isRetryable)
        let invalid = HubSpotError.from(status: 400, body: Array(#"{"message":"bad"}"#.utf8), retryAfterHeader: nil, intervalMilliseconds: nil)
        #expect(!invalid.isRetryable)
    }
}
