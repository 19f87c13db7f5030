import FaultHarness
import Foundation
import SandboxKit
import Testing
import TestSupport

extension FaultSuite {
    /// HubSpot and OneSignal misbehaving: 429 storms, 5xx, answers slower than the client waits, connections dropped
    /// before or after the request was applied. Retries must be harmless (upserts, idempotency keys).
    @Suite struct DestinationFaults {
        enum Fault: String, CaseIterable, CustomTestStringConvertible {
            case rateLimitStorm, serverErrors, slowerThanTimeout, droppedBeforeApplying, droppedAfterApplying
            var testDescription: String { rawValue }

            /// The fault each sandbox injects, how many times, and on which paths.
            func inject(into cluster: FaultCluster) {
                let hubSpotPaths = ["/crm/v3/objects/contacts/batch/upsert"]
                let oneSignalPaths = ["/apps/", "/notifications"]
                switch self {
                case .rateLimitStorm:
                    let hubSpot429 = Data(
                        #"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c0ffee00-0000-4000-8000-000000000000","policyName":"TEN_SECONDLY_ROLLING","groupName":"publicapi"}"#.utf8)
                    for path in hubSpotPaths {
                        cluster.hubSpot.faults.inject(.status(429, body: hubSpot429, headers: [("Retry-After", "1")]), times: 8, pathPrefix: path)
                    }
                    for path in oneSignalPaths {
                        cluster.oneSignal.faults.inject(
                            .status(429, body: Data(#"{"errors":["API rate limit exceeded"]}"#.utf8), headers: [("Retry-After", "1")]),
                            times: 8, pathPrefix: path)
                    }
                case .serverErrors:
                    for path in hubSpotPaths { cluster.hubSpot.faults.inject(.status(502), times: 4, pathPrefix: path) }
                    for path in oneSignalPaths { cluster.oneSignal.faults.inject(.status(500), times: 4, pathPrefix: path) }
                case .slowerThanTimeout:
                    // Answered after the client's 2 s timeout, but applied: the retry must not double anything.
                    for path in hubSpotPaths { cluster.hubSpot.faults.inject(.latency(.seconds(3)), times: 2, pathPrefix: path) }
                    for path in oneSignalPaths { cluster.oneSignal.faults.inject(.latency(.seconds(3)), times: 2, pathPrefix: path) }
                case .droppedBeforeApplying, .droppedAfterApplying:
                    let applied = self == .droppedAfterApplying
                    for path in hubSpotPaths { cluster.hubSpot.faults.inject(.dropConnection(afterHandling: applied), times: 3, pathPrefix: path) }
                    for path in oneSignalPaths { cluster.oneSignal.faults.inject(.dropConnection(afterHandling: applied), times: 3, pathPrefix: path) }
                }
            }
        }

        @Test("HubSpot and OneSignal faults: the final state equals the read models, notifications once", arguments: Fault.allCases)
        func destinationFault(_ fault: Fault) async throws {
            try await TestPostgres.withDatabase { database in
                try await FaultCluster.run(database: database) { cluster in
                    try cluster.seedOneSignalUsers(0..<20)
                    fault.inject(into: cluster)
                    #expect(await cluster.send(FaultCluster.identifyBatches(users: 0..<40, round: 1)) == 0)
                    for index in 0..<2 {
                        #expect(try cluster.sendNotificationAction(
                            callbackID: "cb-\(fault)-\(index)", objectID: 300 + index, externalID: "user-\(index)", port: cluster.processes[0].port) == 200)
                    }
                    let report = try await cluster.settleAndCheck(timeout: .seconds(150))
                    #expect(cluster.hubSpot.faults.pendingCount == 0 && cluster.oneSignal.faults.pendingCount == 0, "every injected fault fired")
                    #expect(report.hubSpotCompared == 40 && report.oneSignalCompared == 40 && report.notificationsSent == 2)
                    #expect(cluster.hubSpot.contacts().count == 40)
                }
            }
        }
    }
}
