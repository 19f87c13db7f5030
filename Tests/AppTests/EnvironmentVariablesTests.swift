@testable import App
import Foundation
import Testing
import TestSupport
import Yams

/// `EnvironmentVariable.all` is the one list of the variables HubSignal reads: the configuration is read through it,
/// `--help` and docs/configuration.md are produced from it, and README, the docs, the deploy files and the sources name
/// no variable it lacks.
@Suite struct EnvironmentVariablesTests {
    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The files under `folder` (relative to the root) whose names end in one of `extensions`, relative to the root.
    static func files(under folder: String, extensions: Set<String>) -> [String] {
        let base = root.appendingPathComponent(folder).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var files: [String] = []
        for case let url as URL in walker where extensions.contains(url.pathExtension) || extensions.contains(url.lastPathComponent) {
            files.append(folder + "/" + url.standardizedFileURL.path.dropFirst(base.path.count + 1))
        }
        return files.sorted()
    }

    /// Words in `text` that look like a HubSignal variable: `HUBSIGNAL_…`, `HUBSPOT_…` or `ONESIGNAL_…` (HubSpot's
    /// association category `HUBSPOT_DEFINED` is no variable).
    static func variableNames(in text: String) -> Set<String> {
        var names: Set<String> = []
        var word = ""
        for character in text + " " {
            if character.isASCII && (character.isUppercase || character.isNumber || character == "_") {
                word.append(character)
                continue
            }
            if EnvironmentVariable.prefixes.contains(where: word.hasPrefix), word != "HUBSPOT_DEFINED", !word.hasSuffix("_") {
                names.insert(word)
            }
            word = ""
        }
        return names
    }

    // MARK: - The registry

    @Test func namesAreUniqueAndEveryVariableIsDescribed() {
        let names = EnvironmentVariable.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.count > 30)
        for variable in EnvironmentVariable.all {
            #expect(!variable.summary.isEmpty && !variable.defaultValue.isEmpty, "\(variable.name)")
            #expect(!variable.summary.hasSuffix("."), "\(variable.name): the summary is a line, not a sentence")
            #expect(variable.details.isEmpty || variable.details.hasSuffix("."), "\(variable.name): details are sentences")
            // The service's settings are applied by the registry; the others are read where they are used.
            #expect((variable.reader != nil) == (variable.group == .service), "\(variable.name)")
        }
    }

    @Test func theDocumentedDefaultsAreTheDefaultsInForce() throws {
        let unset = try AppConfiguration.fromEnvironment([:], requireDatabase: false)
        var checked: [String] = []
        for variable in EnvironmentVariable.all where variable.group == .service {
            // A default that is one value (possibly with a remark in parentheses): setting it changes nothing.
            let parts = variable.defaultValue.split(separator: "`", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].isEmpty, parts[2].isEmpty || parts[2].hasPrefix(" ("), !parts[1].contains("<") else { continue }
            let set = try AppConfiguration.fromEnvironment([variable.name: String(parts[1])], requireDatabase: false)
            #expect(set == unset, "\(variable.name)=\(parts[1]), its documented default, changes the configuration")
            checked.append(variable.name)
        }
        #expect(checked.count >= 15, "\(checked)")
        #expect(checked.contains("HUBSIGNAL_SYNC_LINGER_MS") && checked.contains("HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS"))
        // And a value other than the default does change it, variable by variable.
        let changed = try AppConfiguration.fromEnvironment(["HUBSIGNAL_SYNC_LINGER_MS": "1001"], requireDatabase: false)
        #expect(changed.syncLinger == .milliseconds(1001))
    }

    @Test func anInvalidValueIsRefusedWithItsNameAndValue() throws {
        var refused: [String] = []
        for variable in EnvironmentVariable.all where variable.group == .service && variable.name != "HUBSIGNAL_CONFIG" {
            do {
                _ = try AppConfiguration.fromEnvironment([variable.name: "not valid"], requireDatabase: false)
            } catch let error as ConfigurationError {
                if variable.name.hasPrefix("ONESIGNAL_A") {
                    #expect(error.description.contains("ONESIGNAL_APP_ID"), "\(error)")
                } else {
                    #expect(error.description.hasPrefix("\(variable.name)=not valid "), "\(error)")
                }
                refused.append(variable.name)
            }
        }
        #expect(refused.count >= 17, "\(refused)")
        #expect(!refused.contains("HUBSIGNAL_HOST") && refused.contains("HUBSIGNAL_PORT") && refused.contains("HUBSIGNAL_AUTO_REBUILD"))
    }

    @Test func variablesNamedLikeHubSignalsButUnknownAreReportedByTheCheck() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hubsignal-\(UUID()).yaml")
        try "environment:\n  HUBSIGNAL_WORKERID: w1\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try AppConfiguration.fromEnvironment(
            [
                "HUBSIGNAL_SYNC_LINGER": "5", "HUBSPOT_TOKEN": "x", "PATH": "/bin", "HUBSIGNAL_PG_BIN": "/usr/bin",
                "HUBSIGNAL_CONFIG": file.path,
            ], requireDatabase: false)
        #expect(configuration.unknownVariables == ["HUBSIGNAL_SYNC_LINGER", "HUBSIGNAL_WORKERID", "HUBSPOT_TOKEN"])
        #expect(EnvironmentVariable.closest(to: "HUBSIGNAL_SYNC_LINGER")?.name == "HUBSIGNAL_SYNC_LINGER_MS")
        #expect(EnvironmentVariable.closest(to: "SOMETHING_ELSE_ENTIRELY") == nil)

        // Without a database, HubSpot or OneSignal the check calls nothing; the unknown names come first, as warnings.
        let findings = await ConfigurationCheck(configuration: configuration, logger: TestPostgres.logger).run()
        let environment = findings.filter { $0.subject == "environment" }
        #expect(environment.map(\.level) == [.warning, .warning, .warning])
        #expect(environment.first?.message == "HUBSIGNAL_SYNC_LINGER is set, but HubSignal reads no such variable (did you mean HUBSIGNAL_SYNC_LINGER_MS?)")
        #expect(findings.first?.subject == "environment")
        let clean = await ConfigurationCheck(configuration: try .fromEnvironment([:], requireDatabase: false), logger: TestPostgres.logger).run()
        #expect(!clean.contains { $0.subject == "environment" })
    }

    // MARK: - What is produced from it

    @Test func docsConfigurationIsGeneratedFromTheRegistry() throws {
        let document = try Self.text("docs/configuration.md")
        #expect(
            document == EnvironmentVariable.markdownDocument,
            "docs/configuration.md differs from the registry: run `swift run hubsignal config variables --markdown > docs/configuration.md`")
        for variable in EnvironmentVariable.all { #expect(document.contains("| `\(variable.name)` |")) }
    }

    @Test func serveHelpAndConfigVariablesPrintTheRegistry() throws {
        func run(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = ServeProcessTests.executable
            process.arguments = arguments
            process.environment = ["COLUMNS": "400"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        for command in [["serve", "--help"], ["dev", "--help"], ["config", "check", "--help"]] {
            let help = try run(command)
            for variable in EnvironmentVariable.all where variable.group == .service {
                #expect(help.contains(variable.name), "`hubsignal \(command.joined(separator: " "))` does not list \(variable.name)")
            }
        }
        #expect(try run(["config", "variables", "--markdown"]) == EnvironmentVariable.markdownDocument)
        let listing = try run(["config", "variables"])
        for variable in EnvironmentVariable.all { #expect(listing.contains(variable.name)) }
    }

    // MARK: - Who names variables

    /// README's configuration tables (`| variable | meaning | default |`) name registered variables with their
    /// registered defaults; a row may name several (`A` / `B`), its default then one for all or one each (`a` / `b`).
    @Test func readmeDocumentsRegisteredVariablesWithTheirDefaults() throws {
        var rows = 0
        for (file, text) in try [("README.md", Self.text("README.md"))] {
            var inTable = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("| variable | meaning | default |") {
                    inTable = true
                    continue
                }
                guard inTable, line.hasPrefix("|") else {
                    inTable = false
                    continue
                }
                let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard cells.count >= 4, !cells[1].hasPrefix("---") else { continue }
                let names = cells[1].split(separator: "`").map(String.init).filter { $0.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } }
                let defaultCell = cells[cells.count - 2]
                #expect(!names.isEmpty, "\(file): a row without a variable: \(line)")
                let variables = names.compactMap(EnvironmentVariable.named)
                #expect(variables.count == names.count, "\(file) documents \(names), which the registry lacks in part")
                let defaults = defaultCell.components(separatedBy: " / ")
                let matches = variables.allSatisfy { $0.defaultValue == defaultCell }
                    || (defaults.count == variables.count && zip(variables, defaults).allSatisfy { $0.defaultValue == $1 })
                #expect(matches, "\(file): the default of \(names) is \(defaultCell); the registry says \(variables.map(\.defaultValue))")
                rows += 1
            }
        }
        #expect(rows >= 5, "README has a configuration table")
    }

    @Test func everyVariableTheDocsNameIsRegistered() throws {
        var documents = ["README.md"] + Self.files(under: "docs", extensions: ["md"]) + Self.files(under: "deploy", extensions: ["md"])
        documents += Self.files(under: "Sources", extensions: ["md"])
        #expect(documents.count > 5)
        var found: Set<String> = []
        for document in documents {
            for name in Self.variableNames(in: try Self.text(document)) {
                #expect(EnvironmentVariable.named(name) != nil, "\(document) names \(name), which HubSignal does not read")
                found.insert(name)
            }
        }
        #expect(found.count > 25, "the documents are really read: \(found.sorted())")
        #expect(Self.variableNames(in: "set HUBSIGNAL_PORT, not HUBSPOT_DEFINED or HUBSIGNAL_*") == ["HUBSIGNAL_PORT"])
    }

    /// Every `environment["NAME"]` the sources and tests read is registered, and every registered variable without a
    /// reader of the registry's is read somewhere.
    @Test func theSourcesReadRegisteredVariablesOnly() throws {
        var read: Set<String> = []
        var texts: [String] = []
        for file in Self.files(under: "Sources", extensions: ["swift"]) + Self.files(under: "Tests", extensions: ["swift"])
        where !file.contains("/EnvironmentVariable") {
            let text = try Self.text(file)
            texts.append(text)
            for part in text.components(separatedBy: "environment[\"").dropFirst() {
                let name = String(part.prefix { $0 != "\"" })
                if name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) { read.insert(name) }
            }
        }
        #expect(read.isSuperset(of: ["HUBSIGNAL_PG_BIN", "HUBSPOT_APP_ID", "HUBSIGNAL_EXECUTABLE"]))
        for name in read.subtracting(["PATH", "COLUMNS"]) where !name.hasPrefix("POSTGRES_") {
            #expect(EnvironmentVariable.named(name) != nil, "the code reads \(name), which EnvironmentVariable.all lacks")
        }
        for variable in EnvironmentVariable.all where variable.reader == nil {
            let isRead = texts.contains { $0.contains("\"\(variable.name)\"") }
            #expect(isRead, "\(variable.name) is registered, but no code reads it")
        }
    }

    /// The variables the deploy files give HubSignal (Kubernetes containers, compose services, systemd, the image) are
    /// registered.
    @Test func theDeployFilesSetRegisteredVariablesOnly() throws {
        var used: [(file: String, name: String)] = []
        for file in Self.files(under: "deploy/kubernetes", extensions: ["yaml", "yml"]) {
            var documents = try Yams.load_all(yaml: try Self.text(file))
            while let document = documents.next() {
                guard let object = document as? [String: Any], ["Deployment", "Job"].contains(object["kind"] as? String) else { continue }
                let podSpec = ((object["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
                for container in podSpec?["containers"] as? [[String: Any]] ?? [] {
                    for entry in container["env"] as? [[String: Any]] ?? [] { used.append((file, entry["name"] as? String ?? "?")) }
                }
            }
        }
        let compose = try #require(try Yams.load(yaml: try Self.text("deploy/compose.yaml")) as? [String: Any])
        for (_, service) in compose["services"] as? [String: [String: Any]] ?? [:]
        where (service["build"] as? [String: Any])?["dockerfile"] as? String == "deploy/Dockerfile" {
            used += (service["environment"] as? [String: Any] ?? [:]).keys.map { ("deploy/compose.yaml", $0) }
        }
        // deploy/.env.example also holds compose's own variables (POSTGRES_PASSWORD, IMAGE_TAG…): HubSignal's names only.
        for file in ["deploy/systemd/hubsignal.env", "deploy/.env.example"] {
            for line in try Self.text(file).split(separator: "\n") {
                let entry = line.hasPrefix("#") ? line.dropFirst() : line[...]
                guard let equals = entry.firstIndex(of: "="), case let name = String(entry[..<equals]),
                    !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }),
                    file.hasSuffix("hubsignal.env") || name == "DATABASE_URL" || EnvironmentVariable.prefixes.contains(where: name.hasPrefix)
                else { continue }
                used.append((file, name))
            }
        }
        for line in try Self.text("deploy/systemd/hubsignal.service").split(separator: "\n") where line.hasPrefix("Environment=") {
            used.append(("deploy/systemd/hubsignal.service", String(line.dropFirst("Environment=".count).prefix { $0 != "=" })))
        }
        let dockerfile = try Self.text("deploy/Dockerfile").replacingOccurrences(of: "\\\n", with: " ")
        for line in dockerfile.split(separator: "\n") where line.hasPrefix("ENV ") {
            for assignment in line.dropFirst(4).split(separator: " ") where assignment.contains("=") {
                used.append(("deploy/Dockerfile", String(assignment.prefix { $0 != "=" })))
            }
        }
        #expect(used.count > 30)
        #expect(
            Set(used.map(\.file)).isSuperset(of: [
                "deploy/kubernetes/deployment.yaml", "deploy/kubernetes/migration-job.yaml", "deploy/compose.yaml", "deploy/.env.example",
                "deploy/systemd/hubsignal.env", "deploy/systemd/hubsignal.service", "deploy/Dockerfile",
            ]), "\(Set(used.map(\.file)))")
        for (file, name) in used {
            #expect(EnvironmentVariable.named(name)?.group == .service, "\(file) sets \(name), which is no setting of the service")
        }
    }
}
