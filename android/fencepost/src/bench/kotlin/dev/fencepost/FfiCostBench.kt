package dev.fencepost

import dev.fencepost.ffi.Companion as RustCompanion
import dev.fencepost.ffi.CompanionConfig
import dev.fencepost.ffi.CompanionEvent
import dev.fencepost.ffi.CompanionListener
import dev.fencepost.ffi.LocationFix
import dev.fencepost.ffi.Provider
import dev.fencepost.ffi.normalizeFix
import java.nio.file.Files

/**
 * The Kotlin half of the FFI cost comparison in scripts/mobile-report.sh: the same calls as
 * bindings/examples/ffi_cost.rs, through the generated bindings (JNA), in the same run.
 * Prints `kotlin <call> <ns per call>` lines. Calls the generated object directly (no coroutine
 * dispatch), so the figure is the binding's own cost.
 */
fun main(args: Array<String>) {
    val n = args.firstOrNull()?.toLongOrNull() ?: 200_000L
    val dir = Files.createTempDirectory("fencepost-bench").toString()
    val quiet = object : CompanionListener { override fun onEvent(event: CompanionEvent) {} }
    val companion = RustCompanion(CompanionConfig(backendUrl = "http://127.0.0.1:9"), dir, quiet,
        tokenProvider({ "fpd_bench" }))
    companion.setAvailable(true)
    fun fix(i: Long) = LocationFix(1_700_000_000_000 + i * 1000, 48.1612 + (i % 100) * 1e-5, 11.5634,
        8.0, 5.0, 90.0, Provider.FUSED, false)
    fun perCall(body: (Long) -> Unit): Double {
        for (i in 0 until n / 10) body(i) // JIT warm-up
        val start = System.nanoTime()
        for (i in 0 until n) body(i)
        return (System.nanoTime() - start).toDouble() / n
    }
    val onLocation = perCall { companion.onLocation(fix(it)) }
    val normalize = perCall { normalizeFix(fix(it)) }
    companion.shutdown()
    companion.close()
    println("kotlin on_location %.0f".format(onLocation))
    println("kotlin normalize_fix %.0f".format(normalize))
}
