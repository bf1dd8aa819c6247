package dev.fencepost.app.platform

import android.annotation.SuppressLint
import android.location.Criteria
import android.location.Location
import android.location.LocationListener
import android.location.LocationManager
import android.os.Bundle
import android.os.Looper
import dev.fencepost.DriverCompanion
import dev.fencepost.ffi.ApiException
import dev.fencepost.ffi.LocationFix
import dev.fencepost.ffi.Provider
import dev.fencepost.ffi.TrackingAccuracy
import dev.fencepost.ffi.TrackingProfile
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch

/**
 * Feeds fixes from the platform [LocationManager] (no Google Play services: de-Googled phones, some
 * fleet devices) to the companion, applying its tracking profile. Uses only API 23 classes: this file,
 * the Kotlin library and the generated bindings are compiled against Android API 23's android.jar on CI
 * (scripts/ci/32-android-compile-check.sh), the one Android compilation possible there.
 */
class PlatformLocationFeeder(
    private val manager: LocationManager,
    private val companion: DriverCompanion,
    private val scope: CoroutineScope,
) : LocationListener {

    /** Re-requests updates for [profile]; an inactive profile stops them. */
    @SuppressLint("MissingPermission") // Called only after the app's permission flow.
    fun apply(profile: TrackingProfile) {
        manager.removeUpdates(this)
        if (!profile.active) return
        val criteria = Criteria().apply {
            accuracy = if (profile.accuracy == TrackingAccuracy.HIGH) Criteria.ACCURACY_FINE else Criteria.ACCURACY_COARSE
            powerRequirement = when (profile.accuracy) {
                TrackingAccuracy.HIGH -> Criteria.POWER_HIGH
                TrackingAccuracy.BALANCED -> Criteria.POWER_MEDIUM
                TrackingAccuracy.LOW -> Criteria.POWER_LOW
            }
        }
        val provider = manager.getBestProvider(criteria, true) ?: return
        manager.requestLocationUpdates(provider, profile.intervalMs, profile.distanceFilterM.toFloat(), this,
            Looper.getMainLooper())
    }

    fun stop() = manager.removeUpdates(this)

    override fun onLocationChanged(location: Location) {
        val fix = location.toPlatformFix()
        scope.launch {
            try {
                companion.onLocation(fix)
            } catch (e: ApiException.InvalidInput) {
                // A bad platform fix (e.g. time went backwards after a clock change): skip it.
            }
        }
    }

    @Deprecated("Deprecated in API 29; still called on API 23–28.")
    override fun onStatusChanged(provider: String?, status: Int, extras: Bundle?) {}
    override fun onProviderEnabled(provider: String) {}
    override fun onProviderDisabled(provider: String) {}
}

/** The platform's [Location] as the core's fix (API 23 names: `isFromMockProvider`). */
@Suppress("DEPRECATION")
fun Location.toPlatformFix(): LocationFix = LocationFix(
    timeMs = time,
    lat = latitude,
    lon = longitude,
    accuracyM = if (hasAccuracy()) accuracy.toDouble() else null,
    speedMps = if (hasSpeed()) speed.toDouble() else null,
    bearingDeg = if (hasBearing()) bearing.toDouble() else null,
    provider = when (provider) {
        LocationManager.GPS_PROVIDER -> Provider.GPS
        LocationManager.NETWORK_PROVIDER -> Provider.NETWORK
        else -> Provider.UNKNOWN
    },
    isMock = isFromMockProvider,
)
