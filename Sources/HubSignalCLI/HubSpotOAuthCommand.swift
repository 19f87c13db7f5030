import App
import ArgumentParser
import Foundation

/// `hubsignal hubspot oauth …`: the OAuth installation HubSignal holds (its portal and encrypted tokens).
struct HubSpotOAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth",
        abstract: "Show or erase the HubSpot OAuth installation (the bound portal and its encrypted tokens).",
        subcommands: [HubSpotOAuthStatus.self, HubSpotOAuthErase.self])
}

/// `hubsignal hubspot oauth status`: the installed portal, its scopes and token schedule; never a token.
struct HubSpotOAuthStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the installed HubSpot portal, its scopes and when its access token expires.",
        discussion: "Environment variables:\n  DATABASE_URL  the database holding the installation")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        do {
            guard let installation = try await HubSignalService.hubSpotInstallation(configuration, logger: logger) else {
                print("No HubSpot OAuth installation: open HUBSIGNAL_PUBLIC_URL/hubspot/oauth/install to install the app.")
                return
            }
            print("portal: \(installation.portalID)")
            print("installed: \(installation.installedAt.formatted(.iso8601))")
            print("access token expires: \(installation.accessTokenExpiresAt.formatted(.iso8601)) (refreshed \(installation.refreshes) times)")
            print("scopes: \(installation.scopes.joined(separator: " "))")
        } catch {
            throw fail(error)
        }
    }
}

/// `hubsignal hubspot oauth erase`: deletes the installation and its encrypted tokens.
struct HubSpotOAuthErase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase", abstract: "Delete the HubSpot OAuth installation and its encrypted tokens (unbinds the portal).",
        discussion: """
            HubSignal then holds no HubSpot credential of the portal and its HubSpot sync stops writing; the next install \
            (from any portal) binds anew. Uninstall the app in HubSpot too, which revokes the tokens there.

            Environment variables:
              DATABASE_URL  the database holding the installation
            """)

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        do {
            if let portal = try await HubSignalService.eraseHubSpotInstallation(configuration, logger: logger) {
                print("Erased the HubSpot OAuth installation of portal \(portal) and its tokens.")
            } else {
                print("No HubSpot OAuth installation to erase.")
            }
        } catch {
            throw fail(error)
        }
    }
}
