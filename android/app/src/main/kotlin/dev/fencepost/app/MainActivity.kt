package dev.fencepost.app

import android.Manifest
import android.content.pm.PackageManager
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.activity.viewModels
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import com.google.mlkit.vision.barcode.common.Barcode
import com.google.mlkit.vision.codescanner.GmsBarcodeScannerOptions
import com.google.mlkit.vision.codescanner.GmsBarcodeScanning
import dev.fencepost.ffi.CompanionState
import dev.fencepost.ffi.Phase

/**
 * The dispatch screen: availability, the offer (accept/decline), status with distance and ETA, the
 * pickup scanner and the delivery button. Location permission is asked for before anything that needs
 * tracking, with the rationale string shown first.
 */
class MainActivity : ComponentActivity() {
    private val model: DriverViewModel by viewModels()
    private var afterPermission: (() -> Unit)? = null

    private val permissions = registerForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) { granted ->
        if (granted[Manifest.permission.ACCESS_FINE_LOCATION] == true) afterPermission?.invoke()
        afterPermission = null
    }

    /** Runs [then] once fine location (and, on Android 13+, notifications) are granted. */
    private fun withLocation(then: () -> Unit) {
        val fine = ContextCompat.checkSelfPermission(this, Manifest.permission.ACCESS_FINE_LOCATION)
        if (fine == PackageManager.PERMISSION_GRANTED) return then()
        afterPermission = then
        val wanted = buildList {
            add(Manifest.permission.ACCESS_FINE_LOCATION)
            add(Manifest.permission.ACCESS_COARSE_LOCATION)
            if (Build.VERSION.SDK_INT >= 33) add(Manifest.permission.POST_NOTIFICATIONS)
        }
        permissions.launch(wanted.toTypedArray())
    }

    private fun scanPickupCode() {
        val options = GmsBarcodeScannerOptions.Builder().setBarcodeFormats(Barcode.FORMAT_QR_CODE).build()
        GmsBarcodeScanning.getClient(this, options).startScan()
            .addOnSuccessListener { barcode -> barcode.rawValue?.let(model::scanned) }
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            MaterialTheme {
                val state by model.state.collectAsState()
                val message by model.message.collectAsState()
                DispatchScreen(
                    state = state,
                    message = message,
                    onAvailable = { on -> if (on) withLocation { model.setAvailable(true) } else model.setAvailable(false) },
                    onAccept = { id -> withLocation { model.accept(id) } },
                    onDecline = model::decline,
                    onScan = ::scanPickupCode,
                    onDelivered = model::delivered,
                )
            }
        }
    }
}

@Composable
fun DispatchScreen(
    state: CompanionState?,
    message: String?,
    onAvailable: (Boolean) -> Unit,
    onAccept: (String) -> Unit,
    onDecline: (String) -> Unit,
    onScan: () -> Unit,
    onDelivered: () -> Unit,
) {
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Text("Available for orders")
            Switch(checked = state?.available == true, onCheckedChange = onAvailable)
        }
        state?.openOffers?.firstOrNull()?.let { offer ->
            Card {
                Column(Modifier.padding(12.dp)) {
                    Text("New order from ${offer.storeName}", style = MaterialTheme.typography.titleMedium)
                    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                        Button(onClick = { onAccept(offer.offerId) }) { Text("Accept") }
                        OutlinedButton(onClick = { onDecline(offer.offerId) }) { Text("Decline") }
                    }
                }
            }
        }
        state?.let { s ->
            Text("Status: ${s.phase.name.lowercase().replace('_', ' ')}")
            s.distanceM?.let { Text("Distance: ${if (it >= 1000) "%.1f km".format(it / 1000) else "${it.toInt()} m"}") }
            s.etaS?.let { Text("ETA: ${(it / 60).toInt().coerceAtLeast(1)} min") }
            if (s.sync.pendingMessages > 0u) {
                Text("${s.sync.pendingMessages} updates waiting${if (s.sync.online) "" else " (offline)"}")
            }
            when (s.phase) {
                Phase.ARRIVED_AT_STORE, Phase.EN_ROUTE_TO_STORE, Phase.ACCEPTED ->
                    Button(onClick = onScan) { Text("Scan pickup code") }
                Phase.ARRIVED_AT_CUSTOMER, Phase.EN_ROUTE_TO_CUSTOMER, Phase.PICKED_UP ->
                    Button(onClick = onDelivered) { Text("Delivered") }
                else -> Unit
            }
        }
        message?.let { Text(it, color = MaterialTheme.colorScheme.error) }
    }
}
