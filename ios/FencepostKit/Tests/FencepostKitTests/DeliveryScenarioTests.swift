import XCTest
import FencepostKit

/// One delivery through the Swift package against the real server, driven by the real Munich car trace —
/// the same scenario as the Kotlin `DeliveryScenarioTest`: available → offer → accept → fixes → arrival
/// at the store (the store's feed shows it) → pickup scan → fixes → arrival at the customer → delivered.
///
/// Stops 24–41 and 61–78 of the trace (104 m apart) are the store and the drop-off. The store leg is
/// stamped in the recent past (ending 20 s ago) and the customer leg continues one second per fix, so
/// the trip is fed at once and every fix stays within the server's evidence limits.
final class DeliveryScenarioTests: XCTestCase {
    func testFullDeliveryWithListenerEvents() async throws {
        let trace = try TestWorld.munichTrace()
        let store = 32, dropoff = 70
        func fix(_ i: Int, _ timeMs: Int64) -> LocationFix {
            locationFix(timeMs: timeMs, lat: trace[i].0, lon: trace[i].1, accuracyM: 8, provider: .fused)
        }
        let world = try TestWorld()
        let storeToken = try world.createStore(id: "munich-swift", lat: trace[store].0, lon: trace[store].1)
        let driverToken = try world.createDriver()
        let customerToken = try world.createCustomer()
        var config = CompanionConfig(backendUrl: world.base)
        config.offerPollIntervalMs = 200
        config.locationBatchIntervalMs = 2_000
        config.retryBaseMs = 50
        config.retryMaxMs = 400
        config.evidenceMaxAgeMs = 90_000
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fencepost-swift-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

        let companion = try DriverCompanion(config: config, storageDir: dir.path,
                                            tokens: ClosureTokenProvider(current: { driverToken }))
        defer { companion.shutdown() }
        let events = EventLog()
        let collector = Task { for await event in companion.events { events.append(event) } }
        defer { collector.cancel() }

        func waitFor(_ what: String, _ predicate: @escaping (CompanionEvent) -> Bool) async throws -> CompanionEvent {
            for _ in 0..<300 {
                if let event = events.first(where: predicate) { return event }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            throw WorldError(description: "timed out waiting for \(what)")
        }
        func settle() async throws {
            try await companion.syncNow()
            for _ in 0..<300 {
                if try await companion.state().sync.pendingMessages == 0 { return }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            throw WorldError(description: "outbox did not drain")
        }
        func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

        try await companion.setAvailable(true)
        try await companion.onLocation(fix(0, nowMs() - 60_000))
        try await settle()

        let orderId = try world.placeOrder(customer: customerToken, storeId: "munich-swift",
                                           lat: trace[dropoff].0, lon: trace[dropoff].1)
        try world.storeAccepts(store: storeToken, storeId: "munich-swift", orderId: orderId)
        let offered = try await waitFor("offer") {
            if case .dispatchOffered(let offer) = $0 { return offer.orderId == orderId }
            return false
        }
        guard case .dispatchOffered(let offer) = offered else { return XCTFail("not an offer") }
        XCTAssertEqual(offer.storeId, "munich-swift")
        try await companion.acceptDispatch(offerId: offer.offerId)
        try await settle()
        XCTAssertEqual(try world.status(store: storeToken, orderId: orderId), "driver_assigned")

        let storeLegEnd = nowMs() - 20_000
        for i in 1...38 { try await companion.onLocation(fix(i, storeLegEnd - Int64(38 - i) * 1_000)) }
        _ = try await waitFor("arrived at store") { if case .arrived(_, .store) = $0 { return true }; return false }
        try await settle()
        XCTAssertEqual(try world.status(store: storeToken, orderId: orderId), "driver_arrived")
        _ = try world.storeFeedUntil(store: storeToken) { type, data in
            type == "driver_arrived" && data["orderId"] as? String == orderId
        }

        try await companion.confirmPickup(scannedCode: try world.pickupQr(store: storeToken, orderId: orderId))
        try await settle()
        XCTAssertEqual(try world.status(store: storeToken, orderId: orderId), "out_for_delivery")

        for i in 42...dropoff { try await companion.onLocation(fix(i, storeLegEnd + Int64(i - 41) * 1_000)) }
        _ = try await waitFor("arrived at customer") { if case .arrived(_, .customer) = $0 { return true }; return false }
        try await companion.confirmDelivery()
        try await settle()
        XCTAssertEqual(try world.status(store: storeToken, orderId: orderId), "delivered")
        let finalPhase = try await companion.state().phase
        XCTAssertEqual(finalPhase, .delivered)
        let afterDelivery = try await companion.trackingProfile()
        XCTAssertEqual(afterDelivery.accuracy, .low, "standby only after delivery")
        try await companion.setAvailable(false)
        let signedOff = try await companion.trackingProfile()
        XCTAssertFalse(signedOff.active, "no tracking without dispatch or availability")

        _ = try await waitFor("delivered phase") { if case .phaseChanged(_, .delivered) = $0 { return true }; return false }
        let expected: [Phase] = [.accepted, .enRouteToStore, .arrivedAtStore, .pickedUp, .enRouteToCustomer,
                                 .arrivedAtCustomer, .delivered]
        var seen: [Phase] = []
        for event in events.all {
            if case .phaseChanged(_, let phase) = event, expected.contains(phase), seen.last != phase { seen.append(phase) }
        }
        XCTAssertEqual(seen, expected)
        XCTAssertTrue(events.all.contains { if case .etaUpdated = $0 { return true }; return false }, "ETA updates")
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [CompanionEvent] = []
    func append(_ event: CompanionEvent) { lock.lock(); events.append(event); lock.unlock() }
    var all: [CompanionEvent] { lock.lock(); defer { lock.unlock() }; return events }
    func first(where predicate: (CompanionEvent) -> Bool) -> CompanionEvent? { all.first(where: predicate) }
}
