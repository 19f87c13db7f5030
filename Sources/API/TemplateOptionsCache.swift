import Foundation
import Synchronization

/// A OneSignal message template as the workflow editor's template list shows it.
public struct TemplateOption: Sendable, Hashable {
    /// The template id: the option's value, the notification's `template_id`.
    public var id: String
    /// The template's name: the option's label.
    public var name: String
    /// `push`, `email` or `sms`, when known.
    public var channel: String?
    /// When the template last changed (OneSignal's ISO 8601 text), when known.
    public var updatedAt: String?

    public init(id: String, name: String, channel: String? = nil, updatedAt: String? = nil) {
        self.id = id
        self.name = name
        self.channel = channel
        self.updatedAt = updatedAt
    }
}

/// Each OneSignal app's templates, fetched once and kept for ``Configuration/refreshInterval``, so that HubSpot's
/// workflow editor (which asks on every opening and every keystroke of a search) waits on OneSignal at most once per
/// app per interval, and never longer than ``Configuration/fetchTimeout``.
///
/// A list older than the interval is fetched again on the next request; an app never fetched is fetched at its first
/// request (a miss). Requests arriving while a fetch is under way wait for that fetch (one call for all of them). A
/// fetch that takes longer than the timeout goes on in the background and fills the cache when it ends; the request
/// gets the older list, or ``TemplateOptionsCacheError/stillFetching``. When a fetch fails, the older list is served if
/// there is one; otherwise the failure is answered for ``Configuration/failureInterval`` without calling OneSignal again.
public actor TemplateOptionsCache {
    /// How long lists are kept and fetches waited for.
    public struct Configuration: Sendable {
        /// How long a fetched list is served before it is fetched again (default 5 minutes).
        public var refreshInterval: Duration
        /// How long after a failed fetch the next one is tried (default 30 seconds).
        public var failureInterval: Duration
        /// How long a request waits for a fetch (default 5 seconds).
        public var fetchTimeout: Duration

        public init(refreshInterval: Duration = .seconds(300), failureInterval: Duration = .seconds(30), fetchTimeout: Duration = .seconds(5)) {
            self.refreshInterval = refreshInterval
            self.failureInterval = failureInterval
            self.fetchTimeout = fetchTimeout
        }
    }

    /// Fetches every template of the app with this name (its OneSignal client's `allTemplates()`).
    public typealias Fetch = @Sendable (_ app: String) async throws -> [TemplateOption]

    /// The configured apps' names, the default first (workflow actions without an `app` input use it).
    public nonisolated let apps: [String]
    let configuration: Configuration
    let fetch: Fetch
    let now: @Sendable () -> Date

    struct Entry {
        var templates: [TemplateOption]
        var fetchedAt: Date
    }
    var entries: [String: Entry] = [:]
    var failures: [String: (error: any Error, at: Date)] = [:]
    var inFlight: [String: Task<[TemplateOption], any Error>] = [:]
    /// Fetches started so far.
    public private(set) var fetches = 0

    /// - Parameters:
    ///   - apps: the configured app names, the default first.
    ///   - now: the time the intervals count in (tests pass a manual clock).
    ///   - fetch: how an app's templates are read from OneSignal.
    public init(
        apps: [String], configuration: Configuration = Configuration(), now: @escaping @Sendable () -> Date = { Date() },
        fetch: @escaping Fetch
    ) {
        self.apps = apps
        self.configuration = configuration
        self.now = now
        self.fetch = fetch
    }

    /// The templates of `app`, from the cache while it is fresh, else from OneSignal.
    ///
    /// - Throws: the fetch's error, or ``TemplateOptionsCacheError/stillFetching``, when no earlier list exists.
    public func templates(of app: String) async throws -> [TemplateOption] {
        let time = now()
        if let entry = entries[app], time.timeIntervalSince(entry.fetchedAt) < Self.seconds(configuration.refreshInterval) {
            return entry.templates
        }
        if inFlight[app] == nil, let failure = failures[app], time.timeIntervalSince(failure.at) < Self.seconds(configuration.failureInterval) {
            if let entry = entries[app] { return entry.templates }
            throw failure.error
        }
        let task = inFlight[app] ?? start(app, at: time)
        let outcome: [TemplateOption]?
        do {
            outcome = try await Self.value(of: task, waitingAtMost: configuration.fetchTimeout)
        } catch {
            if let entry = entries[app] { return entry.templates }
            throw error
        }
        if let outcome { return outcome }
        if let entry = entries[app] { return entry.templates }
        throw TemplateOptionsCacheError.stillFetching
    }

    /// Starts fetching `app`'s templates; the fetch records its outcome itself, also when no request waits any more.
    private func start(_ app: String, at time: Date) -> Task<[TemplateOption], any Error> {
        fetches += 1
        let fetch = self.fetch
        let task = Task {
            do {
                let templates = try await fetch(app)
                self.finish(app, .success(templates), at: time)
                return templates
            } catch {
                self.finish(app, .failure(error), at: time)
                throw error
            }
        }
        inFlight[app] = task
        return task
    }

    private func finish(_ app: String, _ result: Result<[TemplateOption], any Error>, at time: Date) {
        inFlight[app] = nil
        switch result {
        case .success(let templates):
            entries[app] = Entry(templates: templates, fetchedAt: time)
            failures[app] = nil
        case .failure(let error):
            failures[app] = (error, time)
        }
    }

    /// The fetch's templates, or `nil` when it has not ended within `timeout` (it goes on; awaiting a task's value
    /// cannot be cancelled, so the wait is a race between two tasks, the first to end answering).
    static func value(
        of task: Task<[TemplateOption], any Error>, waitingAtMost timeout: Duration
    ) async throws -> [TemplateOption]? {
        let race = Race()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[TemplateOption]?, any Error>) in
            @Sendable func answer(_ result: Result<[TemplateOption]?, any Error>) {
                guard race.answered.withLock({ done in defer { done = true }; return !done }) else { return }
                race.timer.withLock { $0?.cancel() }
                continuation.resume(with: result)
            }
            race.timer.withLock { timer in
                timer = Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    answer(.success(nil))
                }
            }
            Task { answer(await task.result.map { Optional($0) }) }
        }
    }

    /// The state the two racing tasks of ``value(of:waitingAtMost:)`` share: whether one answered, and the timer.
    final class Race: Sendable {
        let answered = Mutex(false)
        let timer = Mutex<Task<Void, Never>?>(nil)
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

/// Why ``TemplateOptionsCache`` has no list to give.
public enum TemplateOptionsCacheError: Error, Sendable, CustomStringConvertible {
    /// OneSignal has not answered within the fetch timeout; the fetch goes on and the next request may get its list.
    case stillFetching

    public var description: String { "OneSignal has not answered yet; the list is still being fetched" }
}
