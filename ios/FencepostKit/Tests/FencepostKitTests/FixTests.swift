import XCTest
import FencepostKit

/// Fix validation runs in Rust; these check it arrives in Swift as values and typed errors.
final class FixTests: XCTestCase {
    func testNormalizesUnknownAccuracyAndWrapsBearing() throws {
        let fix = try normalizeFix(fix: locationFix(timeMs: 1_700_000_000_000, lat: 60.17, lon: 24.94,
                                                    accuracyM: 0, bearingDeg: -90, provider: .gps))
        XCTAssertNil(fix.accuracyM)
        XCTAssertEqual(fix.bearingDeg, 270)
        XCTAssertEqual(fix.provider, .gps)
    }

    func testNanAndOutOfRangeAreInvalidInputNamingTheFieldNotTheValue() {
        XCTAssertThrowsError(try normalizeFix(fix: locationFix(timeMs: 1, lat: .nan, lon: 24.94))) { error in
            guard case ApiError.InvalidInput(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("lat"), reason)
        }
        XCTAssertThrowsError(try normalizeFix(fix: locationFix(timeMs: 1, lat: 91.25, lon: 24.94))) { error in
            guard case ApiError.InvalidInput(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("latitude"), reason)
            XCTAssertFalse(reason.contains("91.25"), reason)
        }
    }
}
