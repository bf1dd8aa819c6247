package dev.fencepost

import dev.fencepost.ffi.ApiException
// Aliased: inside a class, `Companion` would mean Kotlin's companion object.
import dev.fencepost.ffi.Companion as RustCompanion
import dev.fencepost.ffi.CompanionConfig
import dev.fencepost.ffi.CompanionEvent
import dev.fencepost.ffi.CompanionListener
import dev.fencepost.ffi.CompanionState
import dev.fencepost.ffi.LocationFix
import dev.fencepost.ffi.TokenProvider
import dev.fencepost.ffi.TrackingProfile
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.withContext
import java.util.concurrent.atomic.AtomicBoolean

/**
 * The driver companion in idiomatic Kotlin: `suspend` operations, a [Flow] of events, [AutoCloseable].
 *
 * It wraps the generated [RustCompanion] (`dev.fencepost.ffi.Companion`) (Rust, through UniFFI). Every operation runs on [io] so the caller
 * may use it from the main thread; the Rust side never blocks on the network, but it does write to
 * SQLite. Errors are the generated [ApiException] subclasses (`InvalidInput`, `PickupRefused`, …).
 *
 * Events are buffered from the moment the companion opens (none are lost before [events] is
 * collected). [events] is meant for ONE collector, the app's view model; fan out from there.
 */
class DriverCompanion private constructor(
    private val inner: RustCompanion,
    private val channel: Channel<CompanionEvent>,
    private val io: CoroutineDispatcher,
) : AutoCloseable {

    /** The companion's events, in the order they happened. Completes when the companion is closed. */
    val events: Flow<CompanionEvent> = channel.receiveAsFlow()

    /** Reports a fix from the platform's location client. Throws `InvalidInput` for a bad fix. */
    suspend fun onLocation(fix: LocationFix): Unit = call { it.onLocation(fix) }

    /** Makes the driver available (or not) for offers; tracking starts in standby while available. */
    suspend fun setAvailable(available: Boolean): Unit = call { it.setAvailable(available) }

    /** Accepts an offer from a `DispatchOffered` event. */
    suspend fun acceptDispatch(offerId: String): Unit = call { it.acceptDispatch(offerId) }

    /** Declines an offer, with a reason for the dispatcher. */
    suspend fun declineDispatch(offerId: String, reason: String): Unit =
        call { it.declineDispatch(offerId, reason) }

    /** The scanned QR text (or typed code). Throws `ApiException.PickupRefused` with the reason. */
    suspend fun confirmPickup(scannedCode: String): Unit = call { it.confirmPickup(scannedCode) }

    /** The order was handed over; tracking stops. */
    suspend fun confirmDelivery(): Unit = call { it.confirmDelivery() }

    /** A snapshot for the UI. */
    suspend fun state(): CompanionState = call { it.state() }

    /** What to request from the location client now. */
    suspend fun trackingProfile(): TrackingProfile = call { it.trackingProfile() }

    /** Sends everything now (call when connectivity returns). */
    suspend fun syncNow(): Unit = call { it.syncNow() }

    /**
     * Stops the companion's thread and frees the Rust object. Pending messages stay on disk for the
     * next companion opened on the same directory. Idempotent.
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        inner.shutdown()
        inner.close()
        channel.close()
    }

    private val closed = AtomicBoolean(false)

    private suspend fun <T> call(op: (RustCompanion) -> T): T = withContext(io) { op(inner) }

    companion object {
        /**
         * Opens (or resumes from) [storageDir] — an app-private directory such as
         * `context.noBackupFilesDir` — and starts the companion.
         */
        suspend fun open(
            config: CompanionConfig,
            storageDir: String,
            tokens: TokenProvider,
            io: CoroutineDispatcher = Dispatchers.IO,
        ): DriverCompanion = withContext(io) {
            val channel = Channel<CompanionEvent>(Channel.UNLIMITED)
            val listener = object : CompanionListener {
                // Called on Rust's threads; trySend on an unlimited channel never blocks or fails
                // (except after close, when events are no longer wanted).
                override fun onEvent(event: CompanionEvent) {
                    channel.trySend(event)
                }
            }
            DriverCompanion(RustCompanion(config, storageDir, listener, tokens), channel, io)
        }
    }
}

/** A [TokenProvider] from two functions, e.g. backed by the app's account manager. */
fun tokenProvider(current: () -> String, refresh: () -> String = current): TokenProvider =
    object : TokenProvider {
        override fun currentToken(): String = current()
        override fun refreshToken(): String = refresh()
    }
