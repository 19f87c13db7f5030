import ArgumentParser

/// `hubsignal sandbox hubspot|onesignal`: the in-memory imitations of HubSpot's and OneSignal's APIs that the tests and
/// `hubsignal dev` use, served on their own so anyone can try HubSignal (or any other client) against them.
struct Sandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve an in-memory HubSpot or OneSignal API sandbox (faithful to their published contracts).",
        subcommands: [SandboxHubSpot.self, SandboxOneSignal.self])
}
