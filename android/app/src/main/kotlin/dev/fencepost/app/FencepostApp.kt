package dev.fencepost.app

import android.app.Application
import android.app.NotificationChannel
import android.app.NotificationManager
import dev.fencepost.DriverCompanion
import dev.fencepost.ffi.CompanionConfig
import dev.fencepost.ffi.CompanionEvent
import dev.fencepost.tokenProvider
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.launch

/**
 * Holds the one [DriverCompanion] of the process and fans its events out: the companion's Flow has a
 * single collector (here); the screen and the location service subscribe to [events].
 */
class FencepostApp : Application() {
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val _events = MutableSharedFlow<CompanionEvent>(extraBufferCapacity = 256)
    val events: SharedFlow<CompanionEvent> = _events

    /** Opened once, off the main thread; awaited by whoever needs it first. */
    val companion: Deferred<DriverCompanion> by lazy {
        scope.async {
            val companion = DriverCompanion.open(
                CompanionConfig(backendUrl = BuildConfig.BACKEND_URL),
                // noBackupFilesDir: the outbox must survive, but must not be restored onto another phone.
                storageDir = noBackupFilesDir.resolve("fencepost").apply { mkdirs() }.path,
                tokens = tokenProvider(current = { DriverAccount.token(this@FencepostApp) },
                    refresh = { DriverAccount.refresh(this@FencepostApp) }),
            )
            scope.launch { companion.events.collect { _events.emit(it) } }
            companion
        }
    }

    override fun onCreate() {
        super.onCreate()
        getSystemService(NotificationManager::class.java).createNotificationChannel(
            NotificationChannel(CHANNEL_ID, getString(R.string.channel_name), NotificationManager.IMPORTANCE_LOW),
        )
    }

    companion object {
        const val CHANNEL_ID = "delivery"
    }
}

/**
 * Where the driver's bearer token lives. Sign-in is outside this project's scope: the token is
 * provisioned by the fleet operator (POST /admin/drivers) and stored in the app's private preferences.
 */
object DriverAccount {
    private const val PREFS = "driver"
    fun token(app: Application): String =
        app.getSharedPreferences(PREFS, 0).getString("token", null)
            ?: throw IllegalStateException("no driver token: sign in first")

    /** Without a sign-in server there is nothing to refresh against: the stored token is returned. */
    fun refresh(app: Application): String = token(app)
}
