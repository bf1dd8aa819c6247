import CoreLocation
import FencepostKit

/// Feeds Core Location fixes to the companion and applies its tracking profile. Background delivery:
/// `allowsBackgroundLocationUpdates` with the `location` background mode (Info.plist), and on iOS 17+
/// a `CLBackgroundActivitySession` plus the `CLLocationUpdate.liveUpdates()` stream, which keep updates
/// flowing when the app is suspended during an active delivery. Nothing runs when the profile is off.
@MainActor
final class LocationFeeder: NSObject, CLLocationManagerDelegate {
    var onFix: ((LocationFix) -> Void)?
    private let manager = CLLocationManager()
    private var liveTask: Task<Void, Never>?
    private var session: AnyObject? // CLBackgroundActivitySession on iOS 17+

    override init() {
        super.init()
        manager.delegate = self
        manager.pausesLocationUpdatesAutomatically = false
        manager.activityType = .automotiveNavigation
    }

    func apply(_ profile: TrackingProfile) {
        stop()
        guard profile.active else { return }
        if manager.authorizationStatus == .notDetermined { manager.requestWhenInUseAuthorization() }
        manager.desiredAccuracy = switch profile.accuracy {
        case .high: kCLLocationAccuracyBest
        case .balanced: kCLLocationAccuracyHundredMeters
        case .low: kCLLocationAccuracyKilometer
        }
        manager.distanceFilter = profile.distanceFilterM > 0 ? profile.distanceFilterM : kCLDistanceFilterNone
        manager.allowsBackgroundLocationUpdates = true
        manager.showsBackgroundLocationIndicator = true
        if #available(iOS 17.0, *) {
            session = CLBackgroundActivitySession()
            liveTask = Task { [weak self] in
                do {
                    for try await update in CLLocationUpdate.liveUpdates(.automotiveNavigation) {
                        if let location = update.location { self?.onFix?(location.fix) }
                    }
                } catch {
                    // The stream ends on cancellation; nothing to report.
                }
            }
        } else {
            manager.startUpdatingLocation()
        }
    }

    func stop() {
        manager.stopUpdatingLocation()
        liveTask?.cancel()
        liveTask = nil
        if #available(iOS 17.0, *) { (session as? CLBackgroundActivitySession)?.invalidate() }
        session = nil
    }

    nonisolated func locationManager(_ manager: CLLocationManager, didUpdateLocations locations: [CLLocation]) {
        let fixes = locations.map(\.fix)
        Task { @MainActor in fixes.forEach { self.onFix?($0) } }
    }
}

extension CLLocation {
    /// Core Location's fix as the core's. Negative accuracy/speed/course mean "invalid" in Core Location.
    var fix: LocationFix {
        var simulated = false
        if #available(iOS 15.0, *) { simulated = sourceInformation?.isSimulatedBySoftware ?? false }
        return locationFix(timeMs: Int64(timestamp.timeIntervalSince1970 * 1000),
                           lat: coordinate.latitude, lon: coordinate.longitude,
                           accuracyM: horizontalAccuracy >= 0 ? horizontalAccuracy : nil,
                           speedMps: speed >= 0 ? speed : nil,
                           bearingDeg: course >= 0 ? course : nil,
                           provider: .fused, isMock: simulated)
    }
}
