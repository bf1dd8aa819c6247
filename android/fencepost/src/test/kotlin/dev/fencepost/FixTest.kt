package dev.fencepost

import dev.fencepost.ffi.ApiException
import dev.fencepost.ffi.Provider
import org.junit.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Fix validation runs in Rust; these check it arrives in Kotlin as values and typed exceptions. */
class FixTest {
    @Test
    fun normalizesUnknownAccuracyAndWrapsBearing() {
        val fix = locationFix(1_700_000_000_000, 60.17, 24.94, accuracyM = 0.0, bearingDeg = -90.0,
            provider = Provider.GPS).normalized()
        assertNull(fix.accuracyM)
        assertEquals(270.0, fix.bearingDeg)
        assertEquals(Provider.GPS, fix.provider)
    }

    @Test
    fun nanAndOutOfRangeAreInvalidInputNamingTheFieldNotTheValue() {
        val nan = assertFailsWith<ApiException.InvalidInput> { locationFix(1, Double.NaN, 24.94).normalized() }
        assertTrue("lat" in nan.reason, nan.reason)
        val far = assertFailsWith<ApiException.InvalidInput> { locationFix(1, 91.25, 24.94).normalized() }
        assertTrue("latitude" in far.reason, far.reason)
        assertFalse("91.25" in far.reason, far.reason)
        assertFailsWith<ApiException.InvalidInput> { locationFix(1, 60.0, 24.0, accuracyM = -3.0).normalized() }
    }
}
