package dev.fencepost

import dev.fencepost.ffi.LocationFix
import dev.fencepost.ffi.Provider
import dev.fencepost.ffi.normalizeFix

/**
 * Builds a [LocationFix] from the values a platform location reports. Android's `Location` is mapped in
 * the app module (`LocationMapping.kt`), keeping this library testable on a plain JVM.
 */
fun locationFix(
    timeMs: Long,
    lat: Double,
    lon: Double,
    accuracyM: Double? = null,
    speedMps: Double? = null,
    bearingDeg: Double? = null,
    provider: Provider = Provider.FUSED,
    isMock: Boolean = false,
): LocationFix = LocationFix(timeMs, lat, lon, accuracyM, speedMps, bearingDeg, provider, isMock)

/** The fix validated and normalised by the Rust core (throws `ApiException.InvalidInput`). */
fun LocationFix.normalized(): LocationFix = normalizeFix(this)
