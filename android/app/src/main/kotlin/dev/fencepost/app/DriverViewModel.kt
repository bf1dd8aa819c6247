package dev.fencepost.app

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import dev.fencepost.ffi.ApiException
import dev.fencepost.ffi.CompanionEvent
import dev.fencepost.ffi.CompanionState
import dev.fencepost.ffi.PickupRefusal
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch

/** The screen's state: the companion's snapshot, refreshed on every event, plus the last message. */
class DriverViewModel(application: Application) : AndroidViewModel(application) {
    private val app = application as FencepostApp
    private val _state = MutableStateFlow<CompanionState?>(null)
    val state: StateFlow<CompanionState?> = _state
    private val _message = MutableStateFlow<String?>(null)
    val message: StateFlow<String?> = _message

    init {
        viewModelScope.launch {
            refresh()
            app.events.collect { event ->
                if (event is CompanionEvent.PickupRejected) _message.value = explain(event.refusal)
                if (event is CompanionEvent.Error) _message.value = event.reason
                refresh()
            }
        }
    }

    fun setAvailable(available: Boolean) = act {
        it.setAvailable(available)
        if (available) LocationService.start(app)
    }

    fun accept(offerId: String) = act {
        it.acceptDispatch(offerId)
        LocationService.start(app)
    }

    fun decline(offerId: String) = act { it.declineDispatch(offerId, "driver declined") }

    fun scanned(code: String) = act { it.confirmPickup(code) }

    fun delivered() = act { it.confirmDelivery() }

    private fun act(op: suspend (dev.fencepost.DriverCompanion) -> Unit) = viewModelScope.launch {
        try {
            op(app.companion.await())
            _message.value = null
        } catch (e: ApiException.PickupRefused) {
            _message.value = explain(e.refusal)
        } catch (e: ApiException) {
            _message.value = e.message
        }
        refresh()
    }

    private suspend fun refresh() {
        _state.value = app.companion.await().state()
    }

    /** What the driver can do about a refused scan. */
    private fun explain(refusal: PickupRefusal): String = when (refusal) {
        PickupRefusal.UnreadableCode -> "That is not a pickup code. Scan the QR code on the store's screen."
        PickupRefusal.WrongOrder -> "That code is for another order."
        PickupRefusal.NoFix, is PickupRefusal.StaleFix -> "Waiting for a fresh location fix; try again in a moment."
        is PickupRefusal.Inaccurate -> "Location is not accurate enough here; step outside or wait a moment."
        PickupRefusal.OutsideFence -> "You are not at the store yet."
        PickupRefusal.Mocked -> "Mock locations cannot confirm a pickup."
        PickupRefusal.QuarantinedJump -> "Your location jumped; wait for it to settle."
    }
}
