package dev.fencepost.app

import android.location.Location
import android.os.Build
import com.google.android.gms.location.LocationRequest
import com.google.android.gms.location.Priority
import dev.fencepost.ffi.LocationFix
import dev.fencepost.ffi.Provider
import dev.fencepost.ffi.TrackingAccuracy
import dev.fencepost.ffi.TrackingProfile

/** Android's [Location] as the core's fix. Unknown values stay null rather than 0. */
fun Location.toFix(): LocationFix = LocationFix(
    timeMs = time,
    lat = latitude,
    lon = longitude,
    accuracyM = if (hasAccuracy()) accuracy.toDouble() else null,
    speedMps = if (hasSpeed()) speed.toDouble() else null,
    bearingDeg = if (hasBearing()) bearing.toDouble() else null,
    provider = when (provider) {
        "gps" -> Provider.GPS
        "network" -> Provider.NETWORK
        "fused" -> Provider.FUSED
        else -> Provider.UNKNOWN
    },
    isMock = if (Build.VERSION.SDK_INT >= 31) isMock else @Suppress("DEPRECATION") isFromMockProvider,
)

/** The core's tracking profile as a fused-location request; null means "stop location updates". */
fun TrackingProfile.toRequest(): LocationRequest? {
    if (!active) return null
    val priority = when (accuracy) {
        TrackingAccuracy.HIGH -> Priority.PRIORITY_HIGH_ACCURACY
        TrackingAccuracy.BALANCED -> Priority.PRIORITY_BALANCED_POWER_ACCURACY
        TrackingAccuracy.LOW -> Priority.PRIORITY_LOW_POWER
    }
    return LocationRequest.Builder(priority, intervalMs)
        .setMinUpdateDistanceMeters(distanceFilterM.toFloat())
        .setWaitForAccurateLocation(accuracy == TrackingAccuracy.HIGH)
        .build()
}
