import Foundation

/// An environment variable HubSignal reads: its name, default and meaning, and for a setting of ``AppConfiguration``
/// how its value is checked and applied.
///
/// ``all`` is the one list of them. ``AppConfiguration/fromEnvironment(_:requireDatabase:)`` reads the settings through
/// it, `hubsignal serve --help` prints it (``help(_:)``), `hubsignal config check` names the variables it does not hold
/// (``unknown(in:)``), and docs/configuration.md is ``markdownDocument`` (`hubsignal config variables --markdown`).
/// Defaults are taken from a default ``AppConfiguration``, so the documented default is the one in force.
public struct EnvironmentVariable: Sendable, Identifiable {
    /// Who reads a variable.
    public enum Group: String, Sendable, CaseIterable {
        /// A setting of ``AppConfiguration``: read by `serve`, `dev`, `migrate`, `config check` and every other command
        /// that reads the configuration.
        case service
        /// Read by `hubsignal hubspot install-actions` (and the HubSpot sandbox) only.
        case hubSpotApp
        /// Read by `hubsignal dev`, the tests and the benches.
        case development
    }

    /// The variable's name, e.g. `HUBSIGNAL_PORT`.
    public let name: String
    public var id: String { name }
    /// Who reads it.
    public let group: Group
    /// What the variable sets, in one line (Markdown: code in backticks).
    public let summary: String
    /// What else an operator must know, in sentences (Markdown); empty when the summary says it all.
    public let details: String
    /// What is in force when the variable is unset or empty (Markdown).
    public let defaultValue: String
    /// Checks a value (never empty) and applies it; `nil` for a variable ``AppConfiguration`` does not hold.
    let reader: Reader?

    init(
        _ name: String, _ group: Group = .service, summary: String, details: String = "", default defaultValue: String,
        reader: Reader? = nil
    ) {
        self.name = name
        self.group = group
        self.summary = summary
        self.details = details
        self.defaultValue = defaultValue
        self.reader = reader
    }

    /// The variable of this name, or `nil` when HubSignal reads no such variable.
    public static func named(_ name: String) -> EnvironmentVariable? {
        all.first { $0.name == name }
    }

    /// Checks `value` and applies it to `configuration`; `environment` is the whole environment, for values that name
    /// other variables (`${NAME}` in the configuration file).
    ///
    /// - Throws: ``ConfigurationError`` naming the variable, its value and what it must be.
    func apply(_ value: String, to configuration: inout AppConfiguration, environment: [String: String]) throws {
        do {
            try reader?.apply(value, &configuration, environment)
        } catch let invalid as Invalid {
            throw ConfigurationError("\(name)=\(value) \(invalid.requirement)")
        }
    }
}

// MARK: - Readers

extension EnvironmentVariable {
    /// How a value is checked and stored.
    struct Reader: Sendable {
        let apply: @Sendable (_ value: String, _ configuration: inout AppConfiguration, _ environment: [String: String]) throws -> Void

        /// Any text.
        static func text(_ property: any WritableKeyPath<AppConfiguration, String> & Sendable) -> Reader {
            Reader { value, configuration, _ in configuration[keyPath: property] = value }
        }

        /// Any text; unset is `nil`.
        static func optionalText(_ property: any WritableKeyPath<AppConfiguration, String?> & Sendable) -> Reader {
            Reader { value, configuration, _ in configuration[keyPath: property] = value }
        }

        /// A whole number within `range`; `requirement` completes "NAME=value …" otherwise.
        static func integer(
            _ property: any WritableKeyPath<AppConfiguration, Int> & Sendable, in range: ClosedRange<Int>, _ requirement: String
        ) -> Reader {
            Reader { value, configuration, _ in configuration[keyPath: property] = try number(value, in: range, requirement) }
        }

        /// A whole number of seconds within `range`.
        static func seconds(
            _ property: any WritableKeyPath<AppConfiguration, Duration> & Sendable, in range: ClosedRange<Int>, _ requirement: String
        ) -> Reader {
            Reader { value, configuration, _ in configuration[keyPath: property] = .seconds(try number(value, in: range, requirement)) }
        }

        /// A whole number of milliseconds within `range`.
        static func milliseconds(
            _ property: any WritableKeyPath<AppConfiguration, Duration> & Sendable, in range: ClosedRange<Int>, _ requirement: String
        ) -> Reader {
            Reader { value, configuration, _ in
                configuration[keyPath: property] = .milliseconds(try number(value, in: range, requirement))
            }
        }

        /// An `http://` or `https://` URL.
        static func httpURL(_ property: any WritableKeyPath<AppConfiguration, String> & Sendable) -> Reader {
            Reader { value, configuration, _ in
                guard value.hasPrefix("http://") || value.hasPrefix("https://") else { throw Invalid("must be an http:// or https:// URL") }
                configuration[keyPath: property] = value
            }
        }

        private static func number(_ value: String, in range: ClosedRange<Int>, _ requirement: String) throws -> Int {
            guard let number = Int(value), range.contains(number) else { throw Invalid(requirement) }
            return number
        }
    }

    /// A value that is not what its variable takes; `requirement` completes "NAME=value …".
    struct Invalid: Error {
        let requirement: String
        init(_ requirement: String) { self.requirement = requirement }
    }
}

// MARK: - Unknown variables

extension EnvironmentVariable {
    /// The prefixes of HubSignal's variables: a variable named so that HubSignal does not read is most likely a typo.
    static let prefixes = ["HUBSIGNAL_", "HUBSPOT_", "ONESIGNAL_"]

    /// The variables of `environment` named like HubSignal's (`HUBSIGNAL_*`, `HUBSPOT_*`, `ONESIGNAL_*`) that HubSignal
    /// does not read, sorted.
    public static func unknown(in environment: [String: String]) -> [String] {
        environment.keys.filter { name in prefixes.contains(where: name.hasPrefix) && named(name) == nil }.sorted()
    }

    /// The variable whose name is closest to `name` (at most three letters apart), for "did you mean …".
    public static func closest(to name: String) -> EnvironmentVariable? {
        let scored = all.map { ($0, distance(Array(name.utf8), Array($0.name.utf8))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 3 else { return nil }
        return best.0
    }

    /// The Levenshtein distance between two names.
    private static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
