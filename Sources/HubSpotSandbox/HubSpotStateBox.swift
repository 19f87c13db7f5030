import Foundation
import Synchronization

/// The sandbox's state behind a lock, shared by the router and the inspection API.
final class HubSpotStateBox: Sendable {
    private let state: Mutex<HubSpotState>

    init(_ state: HubSpotState) {
        self.state = Mutex(state)
    }

    /// Replaces the whole state.
    func replace(with state: HubSpotState) {
        self.state.withLock { $0 = state }
    }

    /// Runs `body` with exclusive access to the state.
    func withLock<Result: Sendable>(_ body: (inout HubSpotState) throws -> Result) rethrows -> Result {
        try state.withLock { try body(&$0) }
    }

    /// Runs a route's handler; a ``HubSpotError`` becomes its error response.
    func run(_ route: HubSpotRoute, _ call: HubSpotCall) -> Result<HubSpotReply, HubSpotError> {
        state.withLock { state in
            do {
                return .success(try route.handler(&state, call))
            } catch let error as HubSpotError {
                return .failure(error)
            } catch {
                return .failure(HubSpotError(status: 500, category: "INTERNAL_ERROR", message: "\(error)"))
            }
        }
    }
}
