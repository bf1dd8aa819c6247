package dev.fencepost

import dev.fencepost.ffi.ApiException
import dev.fencepost.ffi.CallbackException
import dev.fencepost.ffi.Companion
import dev.fencepost.ffi.CompanionConfig
import dev.fencepost.ffi.CompanionEvent
import dev.fencepost.ffi.CompanionListener
import dev.fencepost.ffi.Phase
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Test
import java.nio.file.Files
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/**
 * The companion's contract as Kotlin sees it, without a server (the backend URL points at a closed
 * port: the companion must still answer every call at once, as it would offline).
 */
class CompanionContractTest {
    private val offline = CompanionConfig(backendUrl = "http://127.0.0.1:9")
    private val tokens = tokenProvider({ "fpd_test" })

    private fun dir() = Files.createTempDirectory("fencepost-kt").toString()

    @Test
    fun eventsFlowAndTypedErrors() = runBlocking {
        DriverCompanion.open(offline, dir(), tokens).use { companion ->
            assertEquals(Phase.IDLE, companion.state().phase)
            assertFalse(companion.trackingProfile().active, "no tracking without availability")

            companion.setAvailable(true)
            val changed = withTimeout(5_000) {
                companion.events.first { it is CompanionEvent.TrackingProfileChanged }
            } as CompanionEvent.TrackingProfileChanged
            assertTrue(changed.profile.active, "standby tracking while available")

            assertFailsWith<ApiException.InvalidInput> { companion.acceptDispatch("no-such-offer") }
            assertFailsWith<ApiException.InvalidInput> {
                companion.onLocation(locationFix(System.currentTimeMillis(), Double.NaN, 11.5))
            }
            val refused = runCatching<Unit> { companion.confirmPickup("FP1:someorder:K7M2Q9XW4RBT") }.exceptionOrNull()
            assertTrue(refused is ApiException.InvalidState || refused is ApiException.PickupRefused,
                "pickup without a dispatch is refused with a typed error, got $refused")
        }
    }

    @Test
    fun callsAfterCloseThrowShutDown() = runBlocking {
        val companion = DriverCompanion.open(offline, dir(), tokens)
        companion.close()
        companion.close() // idempotent
        // The Rust object is freed by close(); the generated code refuses further calls with a
        // Kotlin exception rather than touching freed memory.
        assertTrue(runCatching { companion.state() }.isFailure)
    }

    @Test
    fun shutdownThenCallIsTypedShutDown() {
        Companion(offline, dir(), object : CompanionListener {
            override fun onEvent(event: CompanionEvent) {}
        }, tokens).use { raw ->
            raw.shutdown()
            assertFailsWith<ApiException.ShutDown> { raw.setAvailable(true) }
        }
    }

    /** A listener that throws an arbitrary Kotlin exception: a typed error for the caller, no crash. */
    @Test
    fun unexpectedListenerExceptionSurfacesAsPlatformError() {
        var calls = 0
        val throwing = object : CompanionListener {
            override fun onEvent(event: CompanionEvent) {
                calls++
                throw IllegalStateException("listener bug")
            }
        }
        Companion(offline, dir(), throwing, tokens).use { raw ->
            val error = assertFailsWith<ApiException.Platform> { raw.setAvailable(true) }
            assertTrue("listener bug" in error.reason, error.reason)
            assertTrue(calls >= 1)
            // The companion keeps working after the listener failed.
            assertTrue(raw.state().available)
        }
    }

    /** The declared CallbackException from the listener arrives with its reason. */
    @Test
    fun declaredListenerExceptionSurfacesWithItsReason() {
        val throwing = object : CompanionListener {
            override fun onEvent(event: CompanionEvent) {
                throw CallbackException.Failed("ui is gone")
            }
        }
        Companion(offline, dir(), throwing, tokens).use { raw ->
            val error = assertFailsWith<ApiException.Platform> { raw.setAvailable(true) }
            assertTrue("ui is gone" in error.reason, error.reason)
        }
    }
}
