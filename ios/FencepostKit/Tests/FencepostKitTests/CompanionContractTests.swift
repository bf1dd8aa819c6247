import XCTest
import FencepostKit

/// The companion's contract as Swift sees it, without a server (the backend URL points at a closed port:
/// every call must still answer at once, as offline).
final class CompanionContractTests: XCTestCase {
    let offline = CompanionConfig(backendUrl: "http://127.0.0.1:9")
    let tokens = ClosureTokenProvider(current: { "fpd_test" })

    func tempDir() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fencepost-swift-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    func testEventsStreamAndTypedErrors() async throws {
        let companion = try DriverCompanion(config: offline, storageDir: try tempDir(), tokens: tokens)
        defer { companion.shutdown() }
        let idle = try await companion.state()
        XCTAssertEqual(idle.phase, .idle)
        let profile = try await companion.trackingProfile()
        XCTAssertFalse(profile.active, "no tracking without availability")

        try await companion.setAvailable(true)
        var standby: TrackingProfile?
        for await event in companion.events {
            if case .trackingProfileChanged(let p) = event { standby = p; break }
        }
        XCTAssertEqual(standby?.active, true)

        do {
            try await companion.acceptDispatch(offerId: "no-such-offer")
            XCTFail("accepting an unknown offer must throw")
        } catch ApiError.InvalidInput {
        }
        do {
            try await companion.onLocation(locationFix(timeMs: 1, lat: .nan, lon: 11.5))
            XCTFail("a NaN fix must throw")
        } catch ApiError.InvalidInput {
        }
    }

    func testShutdownThenCallIsTypedShutDown() throws {
        let raw = try Companion(config: offline, storageDir: try tempDir(), listener: Recorder(), tokens: tokens)
        raw.shutdown()
        XCTAssertThrowsError(try raw.setAvailable(available: true)) { error in
            XCTAssertEqual(error as? ApiError, .ShutDown)
        }
    }

    /// A Swift error thrown in the listener: a typed `ApiError.Platform` for the caller, no crash.
    func testListenerErrorSurfacesAsPlatformError() throws {
        let raw = try Companion(config: offline, storageDir: try tempDir(), listener: Throwing(), tokens: tokens)
        defer { raw.shutdown() }
        XCTAssertThrowsError(try raw.setAvailable(available: true)) { error in
            guard case ApiError.Platform(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("ui is gone"), reason)
        }
        XCTAssertEqual(try raw.state().available, true, "the companion keeps working")
    }

    /// An error of a type the bindings do not know: still typed, as `Unexpected` inside `Platform`.
    func testUnexpectedListenerErrorSurfacesAsPlatformError() throws {
        struct Boom: Error {}
        let raw = try Companion(config: offline, storageDir: try tempDir(), listener: Throwing(Boom()), tokens: tokens)
        defer { raw.shutdown() }
        XCTAssertThrowsError(try raw.setAvailable(available: true)) { error in
            guard case ApiError.Platform = error else { return XCTFail("\(error)") }
        }
    }
}

final class Recorder: CompanionListener, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [CompanionEvent] = []
    func onEvent(event: CompanionEvent) throws { lock.lock(); events.append(event); lock.unlock() }
    var all: [CompanionEvent] { lock.lock(); defer { lock.unlock() }; return events }
}

final class Throwing: CompanionListener, @unchecked Sendable {
    let error: Error
    init(_ error: Error = CallbackError.Failed(reason: "ui is gone")) { self.error = error }
    func onEvent(event: CompanionEvent) throws { throw error }
}
