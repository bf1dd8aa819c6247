package dev.fencepost.app

import android.annotation.SuppressLint
import android.app.Notification
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.content.pm.ServiceInfo
import android.os.Build
import android.os.Looper
import androidx.core.app.NotificationCompat
import androidx.core.app.ServiceCompat
import androidx.lifecycle.LifecycleService
import androidx.lifecycle.lifecycleScope
import com.google.android.gms.location.LocationCallback
import com.google.android.gms.location.LocationResult
import com.google.android.gms.location.LocationServices
import dev.fencepost.ffi.ApiException
import dev.fencepost.ffi.CompanionEvent
import dev.fencepost.ffi.TrackingProfile
import kotlinx.coroutines.launch

/**
 * The foreground service (type `location`) that feeds fixes to the companion while a delivery or
 * availability needs them, applies the companion's tracking profile to the fused location client, and
 * shows distance/ETA in its notification. It stops itself when the profile says tracking is off (no
 * dispatch and not available): no location is collected then.
 */
class LocationService : LifecycleService() {
    private val app get() = application as FencepostApp
    private val client by lazy { LocationServices.getFusedLocationProviderClient(this) }
    private var orderId: String? = null

    private val callback = object : LocationCallback() {
        override fun onLocationResult(result: LocationResult) {
            lifecycleScope.launch {
                val companion = app.companion.await()
                for (location in result.locations) {
                    try {
                        companion.onLocation(location.toFix())
                    } catch (e: ApiException.InvalidInput) {
                        // A bad fix from the platform (e.g. time went backwards after a clock change):
                        // skip it; the next one will do.
                    }
                }
            }
        }
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        super.onStartCommand(intent, flags, startId)
        ServiceCompat.startForeground(this, NOTIFICATION_ID, notification(getString(R.string.notification_waiting)),
            if (Build.VERSION.SDK_INT >= 29) ServiceInfo.FOREGROUND_SERVICE_TYPE_LOCATION else 0)
        lifecycleScope.launch {
            apply(app.companion.await().trackingProfile())
            app.events.collect { event ->
                when (event) {
                    is CompanionEvent.TrackingProfileChanged -> apply(event.profile)
                    is CompanionEvent.PhaseChanged -> orderId = event.orderId
                    is CompanionEvent.EtaUpdated -> update(event.distanceM, event.etaS)
                    else -> Unit
                }
            }
        }
        return START_STICKY
    }

    /** Re-requests updates with the new profile, or stops the service when tracking is off. */
    @SuppressLint("MissingPermission") // The service is only started after the permission flow.
    private fun apply(profile: TrackingProfile) {
        client.removeLocationUpdates(callback)
        val request = profile.toRequest()
        if (request == null) {
            stopSelf()
            return
        }
        client.requestLocationUpdates(request, callback, Looper.getMainLooper())
    }

    private fun update(distanceM: Double, etaS: Double?) {
        val distance = if (distanceM >= 1000) "%.1f km".format(distanceM / 1000) else "${distanceM.toInt()} m"
        val eta = etaS?.let { "${(it / 60).toInt().coerceAtLeast(1)} min" } ?: "—"
        getSystemService(NotificationManager::class.java)
            .notify(NOTIFICATION_ID, notification(getString(R.string.notification_distance_eta, distance, eta)))
    }

    private fun notification(text: String): Notification =
        NotificationCompat.Builder(this, FencepostApp.CHANNEL_ID)
            .setSmallIcon(R.drawable.ic_delivery)
            .setContentTitle(getString(R.string.notification_title, orderId ?: ""))
            .setContentText(text)
            .setOngoing(true)
            .setContentIntent(PendingIntent.getActivity(this, 0, Intent(this, MainActivity::class.java),
                PendingIntent.FLAG_IMMUTABLE))
            .build()

    override fun onDestroy() {
        client.removeLocationUpdates(callback)
        super.onDestroy()
    }

    companion object {
        private const val NOTIFICATION_ID = 1
        fun start(context: Context) =
            context.startForegroundService(Intent(context, LocationService::class.java))
    }
}
