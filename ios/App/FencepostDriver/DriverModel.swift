import Foundation
import FencepostKit

/// Owns the companion and the location feeder; publishes the companion's state for the views.
@MainActor
final class DriverModel: ObservableObject {
    @Published private(set) var state: CompanionState?
    @Published var message: String?

    private var companion: DriverCompanion?
    private let feeder = LocationFeeder()

    /// The middleware's URL; set per build configuration in Info.plist (`FencepostBackendURL`).
    private var backendURL: String {
        Bundle.main.object(forInfoDictionaryKey: "FencepostBackendURL") as? String ?? "https://orders.example.invalid"
    }

    func start() async {
        do {
            let support = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask,
                                                      appropriateFor: nil, create: true)
            let dir = support.appendingPathComponent("fencepost", isDirectory: true)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            // The outbox must survive but not be restored onto another phone.
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            var mutableDir = dir
            try mutableDir.setResourceValues(values)
            let companion = try DriverCompanion(
                config: CompanionConfig(backendUrl: backendURL), storageDir: dir.path,
                tokens: ClosureTokenProvider(current: { try DriverAccount.token() }))
            self.companion = companion
            feeder.onFix = { fix in Task { try? await companion.onLocation(fix) } }
            feeder.apply(try await companion.trackingProfile())
            await refresh()
            for await event in companion.events { await handle(event) }
        } catch {
            message = "\(error)"
        }
    }

    private func handle(_ event: CompanionEvent) async {
        switch event {
        case .trackingProfileChanged(let profile): feeder.apply(profile)
        case .pickupRejected(_, let refusal): message = Self.explain(refusal)
        case .error(let reason): message = reason
        default: break
        }
        await refresh()
    }

    func setAvailable(_ available: Bool) { act { try await $0.setAvailable(available) } }
    func accept(_ offerId: String) { act { try await $0.acceptDispatch(offerId: offerId) } }
    func decline(_ offerId: String) { act { try await $0.declineDispatch(offerId: offerId, reason: "driver declined") } }
    func scanned(_ code: String) { act { try await $0.confirmPickup(scannedCode: code) } }
    func delivered() { act { try await $0.confirmDelivery() } }

    private func act(_ op: @escaping (DriverCompanion) async throws -> Void) {
        guard let companion else { return }
        Task {
            do {
                try await op(companion)
                message = nil
            } catch ApiError.PickupRefused(let refusal) {
                message = Self.explain(refusal)
            } catch {
                message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            }
            await refresh()
        }
    }

    private func refresh() async {
        state = try? await companion?.state()
    }

    static func explain(_ refusal: PickupRefusal) -> String {
        switch refusal {
        case .unreadableCode: return "That is not a pickup code. Scan the QR code on the store's screen."
        case .wrongOrder: return "That code is for another order."
        case .noFix, .staleFix: return "Waiting for a fresh location fix; try again in a moment."
        case .inaccurate: return "Location is not accurate enough here; step outside or wait a moment."
        case .outsideFence: return "You are not at the store yet."
        case .mocked: return "Simulated locations cannot confirm a pickup."
        case .quarantinedJump: return "Your location jumped; wait for it to settle."
        }
    }
}

/// The driver's bearer token, provisioned by the fleet operator and kept in the keychain.
enum DriverAccount {
    struct NotSignedIn: Error {}
    static func token() throws -> String {
        let query: [String: Any] = [kSecClass as String: kSecClassGenericPassword,
                                    kSecAttrService as String: "dev.fencepost.driver",
                                    kSecReturnData as String: true]
        var item: CFTypeRef?
        guard SecItemCopyMatching(query as CFDictionary, &item) == errSecSuccess,
              let data = item as? Data, let token = String(data: data, encoding: .utf8) else { throw NotSignedIn() }
        return token
    }
}
