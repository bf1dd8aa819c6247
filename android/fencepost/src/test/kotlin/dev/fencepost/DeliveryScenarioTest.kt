package dev.fencepost

import dev.fencepost.ffi.CompanionConfig
import dev.fencepost.ffi.CompanionEvent
import dev.fencepost.ffi.Leg
import dev.fencepost.ffi.Phase
import dev.fencepost.ffi.Provider
import dev.fencepost.ffi.TrackingAccuracy
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.Test
import java.nio.file.Files
import java.util.Collections
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/**
 * One delivery through the Kotlin library against the real server, driven by the real Munich car trace:
 * available → offer → accept → fixes → arrival at the store (the store's feed shows it) → pickup scan →
 * fixes → arrival at the customer → delivered. Listener events are asserted as the app would see them.
 *
 * The trace's first two stops (indices 24–41 and 61–78, 104 m apart) are the store and the drop-off, so
 * the trip is short. Fix times: the store leg is stamped in the recent past (ending 20 s ago) and the
 * customer leg continues from there one second per fix, so the whole trip is fed at once and every
 * fix's age stays within the server's evidence limits (≤ 120 s old, ≤ 30 s ahead).
 */
class DeliveryScenarioTest {
    private val trace = TestWorld.munichTrace()
    private val store = 32
    private val dropoff = 70

    private fun fix(i: Int, timeMs: Long) =
        locationFix(timeMs, trace[i].first, trace[i].second, accuracyM = 8.0, provider = Provider.FUSED)

    @Test
    fun fullDeliveryWithListenerEvents() = runBlocking {
        val world = TestWorld()
        val storeToken = world.createStore("munich-kt", trace[store].first, trace[store].second)
        val driverToken = world.createDriver()
        val customerToken = world.createCustomer()
        val config = CompanionConfig(
            backendUrl = world.base,
            offerPollIntervalMs = 200,
            locationBatchIntervalMs = 2_000,
            retryBaseMs = 50,
            retryMaxMs = 400,
            evidenceMaxAgeMs = 90_000,
        )
        val dir = Files.createTempDirectory("fencepost-kt-scenario").toString()
        DriverCompanion.open(config, dir, tokenProvider({ driverToken })).use { companion ->
            val events = Collections.synchronizedList(mutableListOf<CompanionEvent>())
            val collector = launch(Dispatchers.Default) { companion.events.collect { events += it } }
            suspend fun waitFor(what: String, predicate: (CompanionEvent) -> Boolean): CompanionEvent =
                withTimeout(15_000) {
                    while (true) {
                        synchronized(events) { events.firstOrNull(predicate) }?.let { return@withTimeout it }
                        delay(50)
                    }
                    @Suppress("UNREACHABLE_CODE") error(what)
                }
            suspend fun settle() = withTimeout(15_000) {
                companion.syncNow()
                while (companion.state().sync.pendingMessages != 0u) delay(50)
            }

            // Available, with one standby fix at the trace's start so the server can dispatch to us.
            companion.setAvailable(true)
            val now = System.currentTimeMillis()
            companion.onLocation(fix(0, now - 60_000))
            settle()

            val orderId = world.placeOrder(customerToken, "munich-kt", trace[dropoff].first, trace[dropoff].second)
            world.storeAccepts(storeToken, "munich-kt", orderId)
            val offered = waitFor("offer") {
                it is CompanionEvent.DispatchOffered && it.offer.orderId == orderId
            } as CompanionEvent.DispatchOffered
            assertEquals("munich-kt", offered.offer.storeId)
            companion.acceptDispatch(offered.offer.offerId)
            settle()
            assertEquals("driver_assigned", world.status(storeToken, orderId))

            // Store leg: indices 1..38, the last one stamped 20 s ago.
            val storeLegEnd = System.currentTimeMillis() - 20_000
            for (i in 1..38) companion.onLocation(fix(i, storeLegEnd - (38 - i) * 1_000L))
            waitFor("arrived at store") { it is CompanionEvent.Arrived && it.leg == Leg.STORE }
            settle()
            assertEquals("driver_arrived", world.status(storeToken, orderId))
            world.storeFeedUntil(storeToken) { type, data -> type == "driver_arrived" && orderId in data }

            companion.confirmPickup(world.pickupQr(storeToken, orderId))
            settle()
            assertEquals("out_for_delivery", world.status(storeToken, orderId))

            // Customer leg: indices 42..70, one second apart after the store leg.
            for (i in 42..dropoff) companion.onLocation(fix(i, storeLegEnd + (i - 41) * 1_000L))
            waitFor("arrived at customer") { it is CompanionEvent.Arrived && it.leg == Leg.CUSTOMER }
            companion.confirmDelivery()
            settle()
            assertEquals("delivered", world.status(storeToken, orderId))
            assertEquals(Phase.DELIVERED, companion.state().phase)
            // Delivered: no more high-accuracy tracking; still available, so standby until signed off.
            assertEquals(TrackingAccuracy.LOW, companion.trackingProfile().accuracy)
            companion.setAvailable(false)
            assertTrue(!companion.trackingProfile().active, "no tracking without dispatch or availability")

            // The phases the app saw, in order.
            waitFor("delivered phase") { it is CompanionEvent.PhaseChanged && it.phase == Phase.DELIVERED }
            val phases = synchronized(events) {
                events.filterIsInstance<CompanionEvent.PhaseChanged>().map { it.phase }
            }
            val expected = listOf(Phase.ACCEPTED, Phase.EN_ROUTE_TO_STORE, Phase.ARRIVED_AT_STORE,
                Phase.PICKED_UP, Phase.EN_ROUTE_TO_CUSTOMER, Phase.ARRIVED_AT_CUSTOMER, Phase.DELIVERED)
            assertEquals(expected, phases.filter { it in expected }.distinct(), "phases: $phases")
            assertTrue(events.any { it is CompanionEvent.EtaUpdated }, "ETA updates were reported")
            collector.cancel()
        }
    }
}
