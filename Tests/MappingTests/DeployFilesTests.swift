import Foundation
import Mapping
import Testing
import Yams

/// The files under `deploy/`: they parse, name what HubSignal documents, and agree with each other.
@Suite struct DeployFilesTests {
    // MARK: - Files

    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Every YAML file under `deploy/`, relative to the root, sorted.
    static func yamlFiles() throws -> [String] {
        let deploy = root.appendingPathComponent("deploy")
        guard let walker = FileManager.default.enumerator(at: deploy, includingPropertiesForKeys: nil) else { return [] }
        var files: [String] = []
        for case let url as URL in walker where ["yaml", "yml"].contains(url.pathExtension) {
            files.append("deploy/" + url.standardizedFileURL.path.dropFirst(deploy.standardizedFileURL.path.count + 1))
        }
        return files.sorted()
    }

    /// Every document of a YAML file (several when separated by `---`).
    static func documents(_ path: String) throws -> [Any] {
        var sequence = try Yams.load_all(yaml: try text(path))
        var documents: [Any] = []
        while let document = sequence.next() { documents.append(document) }
        if let error = sequence.error { throw error }
        return documents
    }

    /// The Kubernetes objects of `deploy/kubernetes/`, by kind.
    static func manifests() throws -> [String: [[String: Any]]] {
        var byKind: [String: [[String: Any]]] = [:]
        for file in try yamlFiles() where file.hasPrefix("deploy/kubernetes/") {
            for document in try documents(file) {
                let object = try #require(document as? [String: Any], "\(file): a document is not a mapping")
                byKind[object["kind"] as? String ?? "?", default: []].append(object)
            }
        }
        return byKind
    }

    static func only(_ kind: String) throws -> [String: Any] {
        let objects = try manifests()[kind] ?? []
        #expect(objects.count == 1, "one \(kind) expected, found \(objects.count)")
        return try #require(objects.first)
    }

    /// `key=value` lines of an environment file (comments and blank lines skipped; `#NAME=` counts as a name too).
    static func environmentFileNames(_ path: String) throws -> [String] {
        try text(path).split(separator: "\n").compactMap { line in
            var entry = line.trimmingCharacters(in: .whitespaces)
            if entry.hasPrefix("#") { entry = String(entry.dropFirst()) }
            guard let equals = entry.firstIndex(of: "="), case let name = entry[..<equals],
                !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" })
            else { return nil }
            return String(name)
        }
    }

    /// The containers of a workload's pod template.
    static func containers(_ workload: [String: Any]) throws -> [[String: Any]] {
        let spec = try #require(workload["spec"] as? [String: Any])
        let template = try #require(spec["template"] as? [String: Any])
        let podSpec = try #require(template["spec"] as? [String: Any])
        return try #require(podSpec["containers"] as? [[String: Any]])
    }

    static func podLabels(_ workload: [String: Any]) -> [String: String] {
        let template = (workload["spec"] as? [String: Any])?["template"] as? [String: Any]
        return (template?["metadata"] as? [String: Any])?["labels"] as? [String: String] ?? [:]
    }

    static func matches(_ selector: [String: String], _ labels: [String: String]) -> Bool {
        !selector.isEmpty && selector.allSatisfy { labels[$0.key] == $0.value }
    }

    /// The compose file's services.
    static func composeServices() throws -> [String: [String: Any]] {
        let compose = try #require(try documents("deploy/compose.yaml").first as? [String: Any])
        return try #require(compose["services"] as? [String: [String: Any]])
    }

    /// Compose services that run HubSignal (built from deploy/Dockerfile).
    static func hubSignalServices() throws -> [String: [String: Any]] {
        try composeServices().filter { ($0.value["build"] as? [String: Any])?["dockerfile"] as? String == "deploy/Dockerfile" }
    }

    // MARK: - YAML

    @Test func everyYAMLFileUnderDeployParses() throws {
        let files = try Self.yamlFiles()
        for expected in [
            "deploy/compose.yaml", "deploy/kubernetes/configmap.yaml", "deploy/kubernetes/deployment.yaml",
            "deploy/kubernetes/migration-job.yaml", "deploy/kubernetes/poddisruptionbudget.yaml",
            "deploy/kubernetes/secret.example.yaml", "deploy/kubernetes/service.yaml",
        ] {
            #expect(files.contains(expected), "\(expected) is missing")
        }
        for file in files {
            let documents = try Self.documents(file)
            #expect(!documents.isEmpty, "\(file) holds no document")
            for document in documents { #expect(document is [String: Any], "\(file): every document is a mapping") }
        }
        // Multi-document files count every document.
        #expect(try Self.documents("deploy/kubernetes/secret.example.yaml").count == 2)
    }

    @Test func kubernetesManifestsNameTheirKindAndAgree() throws {
        let manifests = try Self.manifests()
        #expect(Set(manifests.keys) == ["ConfigMap", "Deployment", "Job", "PodDisruptionBudget", "Secret", "Service"])
        for (kind, objects) in manifests {
            for object in objects {
                #expect((object["apiVersion"] as? String)?.isEmpty == false, "\(kind) without apiVersion")
                let name = (object["metadata"] as? [String: Any])?["name"] as? String
                #expect(name?.isEmpty == false, "\(kind) without metadata.name")
            }
        }
        let deployment = try Self.only("Deployment")
        let job = try Self.only("Job")
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect((spec["replicas"] as? Int ?? 0) >= 2)
        let podLabels = Self.podLabels(deployment)
        let selector = (spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String] ?? [:]
        #expect(Self.matches(selector, podLabels))

        // The Service and the PodDisruptionBudget select the server pods, not the migration Job's.
        let service = try Self.only("Service")
        let serviceSpec = try #require(service["spec"] as? [String: Any])
        #expect(Self.matches(serviceSpec["selector"] as? [String: String] ?? [:], podLabels))
        #expect(!Self.matches(serviceSpec["selector"] as? [String: String] ?? [:], Self.podLabels(job)))
        let pdb = try #require(try Self.only("PodDisruptionBudget")["spec"] as? [String: Any])
        #expect(pdb["minAvailable"] as? Int == 1)
        let pdbSelector = (pdb["selector"] as? [String: Any])?["matchLabels"] as? [String: String] ?? [:]
        #expect(Self.matches(pdbSelector, podLabels))
        #expect(!Self.matches(pdbSelector, Self.podLabels(job)))
        let ports = try #require(serviceSpec["ports"] as? [[String: Any]])
        let containerPorts = try #require(try Self.containers(deployment).first?["ports"] as? [[String: Any]])
        for port in ports {
            let target = port["targetPort"]
            #expect(
                containerPorts.contains { $0["name"] as? String == target as? String || $0["containerPort"] as? Int == target as? Int },
                "the Service's targetPort \(String(describing: target)) is no container port")
        }

        // The migration Job runs `hubsignal migrate` with the Deployment's image, and retries a bounded number of times.
        let jobSpec = try #require(job["spec"] as? [String: Any])
        #expect((jobSpec["backoffLimit"] as? Int).map { $0 > 0 && $0 <= 10 } == true)
        let migrate = try #require(try Self.containers(job).first)
        let server = try #require(try Self.containers(deployment).first)
        #expect(migrate["args"] as? [String] == ["migrate"])
        #expect(server["args"] as? [String] == ["serve"])
        #expect(migrate["image"] as? String == server["image"] as? String)
    }

    @Test func deploymentProbesAndSecurity() throws {
        let deployment = try Self.only("Deployment")
        let container = try #require(try Self.containers(deployment).first)
        let ports = try #require(container["ports"] as? [[String: Any]])
        #expect(ports.contains { $0["containerPort"] as? Int == 8080 })
        let admin = try #require(ports.first { $0["containerPort"] as? Int == 9090 }, "no container port for the admin listener")
        func probe(_ name: String) throws -> (path: String?, port: Any?) {
            let httpGet = try #require((container[name] as? [String: Any])?["httpGet"] as? [String: Any], "\(name) is not an HTTP probe")
            return (httpGet["path"] as? String, httpGet["port"])
        }
        // /readyz (and /metrics) answer on the admin listener only; the probes use it.
        for (name, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")] {
            let (probePath, port) = try probe(name)
            #expect(probePath == path, "\(name)")
            #expect(
                (port as? String).map { $0 == admin["name"] as? String } ?? ((port as? Int) == 9090),
                "\(name) must use the admin port 9090 (or its name)")
        }
        // The admin listener is on the pod's address (the kubelet probes it from the node), at that port; the Service
        // does not expose it.
        let variables = try #require(container["env"] as? [[String: Any]])
        func value(_ name: String) -> String? { variables.first { $0["name"] as? String == name }?["value"] as? String }
        #expect(value("HUBSIGNAL_ADMIN_HOST") == "0.0.0.0")
        #expect(value("HUBSIGNAL_ADMIN_PORT") == "9090")
        let servicePorts = try #require((try Self.only("Service")["spec"] as? [String: Any])?["ports"] as? [[String: Any]])
        for port in servicePorts {
            let target = port["targetPort"]
            #expect(target as? String != admin["name"] as? String && target as? Int != 9090, "the Service exposes the admin port")
        }
        let annotations = ((deployment["spec"] as? [String: Any])?["template"] as? [String: Any]).flatMap {
            ($0["metadata"] as? [String: Any])?["annotations"] as? [String: String]
        }
        #expect(annotations?["prometheus.io/port"] == "9090")
        // HubSpot's calls need the URL their signatures cover and the one portal to accept.
        #expect(value("HUBSIGNAL_PUBLIC_URL")?.hasPrefix("https://") == true)
        #expect(value("HUBSPOT_PORTAL_ID")?.allSatisfy(\.isNumber) == true)

        // Non-root, read-only root file system, no privilege escalation: in the pod and the container.
        let podSpec = try #require(((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let podSecurity = try #require(podSpec["securityContext"] as? [String: Any])
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        #expect((podSecurity["runAsUser"] as? Int ?? 0) > 0)
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        let resources = try #require(container["resources"] as? [String: Any])
        #expect(resources["requests"] != nil && resources["limits"] != nil)

        // HUBSIGNAL_MAPPING names the mapping file of the ConfigMap, where it is mounted; the mapping is valid.
        let env = try #require(container["env"] as? [[String: Any]])
        let mappingPath = try #require(env.first { $0["name"] as? String == "HUBSIGNAL_MAPPING" }?["value"] as? String)
        #expect(mappingPath == "/etc/hubsignal/hubsignal.yaml")
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let mount = try #require(mounts.first { mappingPath.hasPrefix(($0["mountPath"] as? String ?? "?") + "/") })
        let volumes = try #require(podSpec["volumes"] as? [[String: Any]])
        let volume = try #require(volumes.first { $0["name"] as? String == mount["name"] as? String })
        let configMapName = try #require((volume["configMap"] as? [String: Any])?["name"] as? String)
        let configMap = try #require(try Self.manifests()["ConfigMap"]?.first {
            ($0["metadata"] as? [String: Any])?["name"] as? String == configMapName
        })
        let fileName = String(mappingPath.dropFirst((mount["mountPath"] as? String ?? "").count + 1))
        let mapping = try #require((configMap["data"] as? [String: String])?[fileName], "the ConfigMap has no \(fileName)")
        _ = try Mapping.parse(mapping, file: "deploy/kubernetes/configmap.yaml")
    }

    // MARK: - Environment

    // That every variable the deploy files set is a registered one is checked against the registry itself:
    // EnvironmentVariablesTests.theDeployFilesSetRegisteredVariablesOnly (Tests/AppTests).

    @Test func kubernetesContainersNameEachVariable() throws {
        let manifests = try Self.manifests()
        var containers = 0
        for workload in (manifests["Deployment"] ?? []) + (manifests["Job"] ?? []) {
            for container in try Self.containers(workload) {
                #expect(container["envFrom"] == nil, "map Secret keys one by one, so that only registered names reach HubSignal")
                #expect((container["env"] as? [[String: Any]])?.isEmpty == false)
                containers += 1
            }
        }
        #expect(containers >= 2)
    }

    @Test func everySecretKeyReferenceExistsInTheExampleSecrets() throws {
        let manifests = try Self.manifests()
        var secrets: [String: Set<String>] = [:]
        for secret in manifests["Secret"] ?? [] {
            let name = try #require((secret["metadata"] as? [String: Any])?["name"] as? String)
            let keys = Array((secret["stringData"] as? [String: Any] ?? [:]).keys) + Array((secret["data"] as? [String: Any] ?? [:]).keys)
            secrets[name, default: []].formUnion(keys)
        }
        var references = 0
        for workload in (manifests["Deployment"] ?? []) + (manifests["Job"] ?? []) {
            for container in try Self.containers(workload) {
                for entry in container["env"] as? [[String: Any]] ?? [] {
                    guard let reference = (entry["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] else { continue }
                    let name = try #require(reference["name"] as? String)
                    let key = try #require(reference["key"] as? String)
                    #expect(secrets[name]?.contains(key) == true, "secret \(name) has no key \(key) in secret.example.yaml")
                    references += 1
                }
            }
        }
        #expect(references >= 8)
        // The example is marked as one and holds placeholders only.
        let example = try Self.text("deploy/kubernetes/secret.example.yaml")
        #expect(example.contains("EXAMPLE"))
        #expect(example.contains("CHANGE-ME"))
        // The migration Job connects as the schema owner, not with the service's secret.
        let job = try #require(manifests["Job"]?.first)
        let jobReferences = try Self.containers(job).flatMap { $0["env"] as? [[String: Any]] ?? [] }
            .compactMap { ($0["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any] }
        #expect(jobReferences.map { $0["name"] as? String } == ["hubsignal-migrate"])
    }

    // MARK: - Compose

    @Test func composeServicesDependOnServicesThatExist() throws {
        let services = try Self.composeServices()
        #expect(Set(services.keys) == ["postgres", "migrate", "hubsignal"])
        for (name, service) in services {
            guard let dependencies = service["depends_on"] else { continue }
            let named: [String: Any] =
                (dependencies as? [String: Any]) ?? Dictionary(uniqueKeysWithValues: (dependencies as? [String] ?? []).map { ($0, [:]) })
            #expect(!named.isEmpty, "\(name): depends_on is neither a list nor a mapping")
            for (dependency, options) in named {
                #expect(services[dependency] != nil, "\(name) depends on \(dependency), which is no service")
                let condition = (options as? [String: Any])?["condition"] as? String
                if condition == "service_healthy" {
                    #expect(services[dependency]?["healthcheck"] != nil, "\(name) waits for \(dependency) to be healthy, which has no healthcheck")
                }
            }
        }
        func condition(_ service: String, _ dependency: String) -> String? {
            ((services[service]?["depends_on"] as? [String: Any])?[dependency] as? [String: Any])?["condition"] as? String
        }
        #expect(condition("migrate", "postgres") == "service_healthy")
        #expect(condition("hubsignal", "migrate") == "service_completed_successfully")
        #expect(services["migrate"]?["command"] as? [String] == ["migrate"])
        #expect(services["hubsignal"]?["command"] as? [String] == ["serve"])
        #expect((services["postgres"]?["image"] as? String)?.hasPrefix("postgres:16") == true)
        let postgresCheck = (services["postgres"]?["healthcheck"] as? [String: Any])?["test"] as? [String]
        #expect(postgresCheck?.joined(separator: " ").contains("pg_isready") == true)
        let readiness = (services["hubsignal"]?["healthcheck"] as? [String: Any])?["test"] as? [String]
        #expect(readiness?.contains { $0.hasSuffix("127.0.0.1:9090/readyz") } == true, "readiness is asked on the admin listener")
        #expect((services["hubsignal"]?["ports"] as? [String])?.contains { $0.hasSuffix(":8080") } == true)
        #expect((services["hubsignal"]?["ports"] as? [String])?.contains { $0.contains("9090") } == false, "the admin port is published")
        #expect(services["postgres"]?["volumes"] != nil)

        // Every ${VAR} compose reads is in .env.example, and the secrets are not written in compose.yaml.
        let compose = try Self.text("deploy/compose.yaml")
        let example = Set(try Self.environmentFileNames("deploy/.env.example"))
        var interpolated: Set<String> = []
        for part in compose.components(separatedBy: "${").dropFirst() {
            let name = String(part.prefix { $0.isUppercase || $0.isNumber || $0 == "_" })
            if !name.isEmpty { interpolated.insert(name) }
        }
        #expect(interpolated.isSuperset(of: ["POSTGRES_PASSWORD", "HUBSPOT_ACCESS_TOKEN", "ONESIGNAL_API_KEY", "HUBSIGNAL_WRITE_KEYS"]))
        for name in interpolated { #expect(example.contains(name), "compose.yaml reads ${\(name)}, which deploy/.env.example lacks") }
        #expect(try Self.text("deploy/.gitignore").split(separator: "\n").contains(".env"))
    }

    // MARK: - systemd

    static let systemdKeys: [String: Set<String>] = [
        "Unit": ["Description", "Documentation", "After", "Before", "Wants", "Requires", "BindsTo", "PartOf", "ConditionPathExists",
                 "StartLimitIntervalSec", "StartLimitBurst"],
        "Service": [
            "Type", "User", "Group", "EnvironmentFile", "Environment", "ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload",
            "Restart", "RestartSec", "KillSignal", "KillMode", "TimeoutStartSec", "TimeoutStopSec", "WorkingDirectory",
            "LimitNOFILE", "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
            "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups", "RestrictAddressFamilies",
            "LockPersonality", "MemoryDenyWriteExecute", "RestrictRealtime", "RestrictSUIDSGID", "SystemCallArchitectures",
            "CapabilityBoundingSet", "AmbientCapabilities", "ReadOnlyPaths", "ReadWritePaths", "StateDirectory",
            "RuntimeDirectory", "LogsDirectory", "SyslogIdentifier", "StandardOutput", "StandardError", "UMask",
        ],
        "Install": ["WantedBy", "RequiredBy", "Alias"],
    ]

    @Test func systemdUnitUsesKnownSectionsAndKeysAndServes() throws {
        var section: String?
        var seen: [String: [String: [String]]] = [:]
        for raw in try Self.text("deploy/systemd/hubsignal.service").split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                section = String(line.dropFirst().dropLast())
                #expect(line.hasSuffix("]") && Self.systemdKeys[section ?? ""] != nil, "unknown section \(line)")
                continue
            }
            let current = try #require(section, "\(line) comes before any section")
            let key = String(line.prefix { $0 != "=" })
            #expect(line.contains("="), "\(line) is not key=value")
            #expect(Self.systemdKeys[current]?.contains(key) == true, "[\(current)] has the unknown key \(key)")
            seen[current, default: [:]][key, default: []].append(String(line.dropFirst(key.count + 1)))
        }
        #expect(Set(seen.keys) == ["Unit", "Service", "Install"])
        let execStart = try #require(seen["Service"]?["ExecStart"]?.first)
        let words = execStart.split(separator: " ")
        #expect(words.first?.hasSuffix("/hubsignal") == true && words.dropFirst().first == "serve", "ExecStart must run `hubsignal serve`")
        #expect(seen["Service"]?["User"]?.first.map { $0 != "root" && $0 != "0" } == true)
        #expect(seen["Service"]?["EnvironmentFile"]?.first?.hasSuffix("/hubsignal.env") == true)
        #expect(seen["Install"]?["WantedBy"] == ["multi-user.target"])
    }

    // MARK: - Dockerfile

    /// The Dockerfile's instructions, continuation lines joined, comments dropped.
    static func dockerfileInstructions() throws -> [String] {
        var instructions: [String] = []
        var pending = ""
        for raw in try text("deploy/Dockerfile").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || (line.isEmpty && pending.isEmpty) { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
            } else {
                instructions.append((pending + line).split(separator: " ").joined(separator: " "))
                pending = ""
            }
        }
        return instructions.filter { !$0.isEmpty }
    }

    @Test func dockerfileBuildsInOneStageAndRunsNonRootInAnother() throws {
        let instructions = try Self.dockerfileInstructions()
        let froms = instructions.filter { $0.hasPrefix("FROM ") }
        #expect(froms.count == 2)
        #expect(froms.first?.hasPrefix("FROM swift:") == true && froms.first?.hasSuffix(" AS build") == true)
        #expect(froms.last?.hasPrefix("FROM debian:bookworm-slim") == true, "the run stage must match the build image's Debian 12")
        #expect(froms.first?.contains("bookworm") == true)
        let build = instructions.first { $0.contains("swift build") } ?? ""
        #expect(build.contains("-c release") && build.contains("--product hubsignal") && build.contains("--static-swift-stdlib"))
        #expect(instructions.contains { $0.hasPrefix("RUN ") && $0.contains("libpq-dev") })
        let runStage = instructions.drop(while: { $0 != froms.last })
        #expect(runStage.contains { $0.contains("install") && $0.contains("libpq5") && !$0.contains("libpq-dev") })
        let user = try #require(runStage.last { $0.hasPrefix("USER ") })
        let account = user.dropFirst(5).prefix { $0 != ":" }
        #expect(account != "root" && account != "0", "the image must run as a non-root user")
        #expect(runStage.contains("EXPOSE 8080"))
        #expect(!runStage.contains { $0.hasPrefix("EXPOSE ") && $0.contains("9090") }, "the admin listener is not for publishing")
        let healthcheck = try #require(runStage.first { $0.hasPrefix("HEALTHCHECK ") })
        #expect(healthcheck.contains("127.0.0.1:${HUBSIGNAL_ADMIN_PORT}/healthz"))
        #expect(runStage.contains {
            $0.hasPrefix("ENV ") && $0.contains("HUBSIGNAL_ADMIN_HOST=127.0.0.1") && $0.contains("HUBSIGNAL_ADMIN_PORT=9090")
        })
        #expect(runStage.contains { $0.hasPrefix("COPY ") && $0.contains("migrations") && $0.hasSuffix(" /usr/share/hubsignal/migrations/") })
        #expect(runStage.contains { $0.hasPrefix("COPY --from=build ") && $0.hasSuffix("/usr/local/bin/hubsignal") })
        #expect(runStage.contains { $0.hasPrefix("ENV ") && $0.contains("HUBSIGNAL_HOST=0.0.0.0") })
        #expect(runStage.last { $0.hasPrefix("ENTRYPOINT ") } == #"ENTRYPOINT ["hubsignal"]"#)
        #expect(runStage.last { $0.hasPrefix("CMD ") } == #"CMD ["serve"]"#)

        let ignored = try Self.text(".dockerignore").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for entry in [".build*", ".hubsignal", ".git"] { #expect(ignored.contains(entry), ".dockerignore lacks \(entry)") }
    }

    // MARK: - Docs

    @Test func operationsDocsExplainEveryDeployFile() throws {
        let operations = try Self.text("docs/operations.md")
        let start = try #require(operations.range(of: "\n## Deploying\n"))
        let rest = operations[start.upperBound...]
        let section = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        for file in try Self.yamlFiles() + ["deploy/Dockerfile", "deploy/systemd/hubsignal.service", "deploy/.env.example"]
        where !file.hasPrefix("deploy/hubspot/") && !file.hasPrefix("deploy/onesignal/") {
            let name = file.split(separator: "/").last.map(String.init) ?? file
            #expect(section.contains(name), "docs/operations.md's Deploying section does not mention \(file)")
        }
    }
}
