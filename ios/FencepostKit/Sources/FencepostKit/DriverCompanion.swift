import Foundation
@_exported import FencepostFFI

/// The driver companion in idiomatic Swift: `async` operations and an `AsyncStream` of events.
///
/// Wraps the generated `Companion` (Rust, through UniFFI). Operations run off the caller's thread (the
/// Rust side never blocks on the network, but it does write to SQLite), so they are safe to await
/// from the main actor. Errors are the generated `ApiError` cases (`InvalidInput`, `PickupRefused`, …).
///
/// Events are buffered from the moment the companion opens; `events` is meant for one consumer
/// (the app's model object), which fans out to the views.
public final class DriverCompanion: @unchecked Sendable {
    /// The companion's events in the order they happened. Finishes on `shutdown()`.
    public let events: AsyncStream<CompanionEvent>

    private let inner: Companion
    private let continuation: AsyncStream<CompanionEvent>.Continuation
    private let queue = DispatchQueue(label: "dev.fencepost.companion", qos: .userInitiated)

    /// Opens (or resumes from) `storageDir` — an app-private directory such as Application Support —
    /// and starts the companion.
    public init(config: CompanionConfig, storageDir: String, tokens: TokenProvider) throws {
        let (stream, continuation) = AsyncStream.makeStream(of: CompanionEvent.self, bufferingPolicy: .unbounded)
        self.events = stream
        self.continuation = continuation
        self.inner = try Companion(config: config, storageDir: storageDir,
                                   listener: StreamListener(continuation), tokens: tokens)
    }

    deinit { shutdown() }

    /// Reports a fix from Core Location. Throws `ApiError.InvalidInput` for a bad fix.
    public func onLocation(_ fix: LocationFix) async throws { try await run { try $0.onLocation(fix: fix) } }

    /// Makes the driver available (or not) for offers.
    public func setAvailable(_ available: Bool) async throws {
        try await run { try $0.setAvailable(available: available) }
    }

    /// Accepts an offer from a `.dispatchOffered` event.
    public func acceptDispatch(offerId: String) async throws { try await run { try $0.acceptDispatch(offerId: offerId) } }

    /// Declines an offer, with a reason for the dispatcher.
    public func declineDispatch(offerId: String, reason: String) async throws {
        try await run { try $0.declineDispatch(offerId: offerId, reason: reason) }
    }

    /// The scanned QR text (or typed code). Throws `ApiError.PickupRefused` with the reason.
    public func confirmPickup(scannedCode: String) async throws {
        try await run { try $0.confirmPickup(scannedCode: scannedCode) }
    }

    /// The order was handed over; tracking stops.
    public func confirmDelivery() async throws { try await run { try $0.confirmDelivery() } }

    /// A snapshot for the UI.
    public func state() async throws -> CompanionState { try await run { try $0.state() } }

    /// What to ask Core Location for now.
    public func trackingProfile() async throws -> TrackingProfile { try await run { try $0.trackingProfile() } }

    /// Sends everything now (call when connectivity returns).
    public func syncNow() async throws { try await run { try $0.syncNow() } }

    /// Stops the companion's thread; pending messages stay on disk for the next companion opened on
    /// the same directory. Idempotent.
    public func shutdown() {
        inner.shutdown()
        continuation.finish()
    }

    private func run<T>(_ op: @escaping (Companion) throws -> T) async throws -> T {
        let inner = self.inner
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, Error>) in
            queue.async { done.resume(with: Result { try op(inner) }) }
        }
    }
}

/// Forwards events from Rust's threads into the stream; yielding to an unbounded stream never blocks.
private final class StreamListener: CompanionListener, @unchecked Sendable {
    private let continuation: AsyncStream<CompanionEvent>.Continuation
    init(_ continuation: AsyncStream<CompanionEvent>.Continuation) { self.continuation = continuation }
    func onEvent(event: CompanionEvent) throws { continuation.yield(event) }
}

/// A `TokenProvider` from two closures, e.g. backed by the app's keychain.
public final class ClosureTokenProvider: TokenProvider, @unchecked Sendable {
    private let current: () throws -> String
    private let refresh: () throws -> String
    public init(current: @escaping () throws -> String, refresh: (() throws -> String)? = nil) {
        self.current = current
        self.refresh = refresh ?? current
    }
    public func currentToken() throws -> String { try current() }
    public func refreshToken() throws -> String { try refresh() }
}

/// A `LocationFix` from the values Core Location reports (see the app's `CLLocation+Fix.swift`).
public func locationFix(timeMs: Int64, lat: Double, lon: Double, accuracyM: Double? = nil,
                        speedMps: Double? = nil, bearingDeg: Double? = nil,
                        provider: Provider = .fused, isMock: Bool = false) -> LocationFix {
    LocationFix(timeMs: timeMs, lat: lat, lon: lon, accuracyM: accuracyM, speedMps: speedMps,
                bearingDeg: bearingDeg, provider: provider, isMock: isMock)
}
