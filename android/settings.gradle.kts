// The Android shell, for Android Studio. Gradle and the Android Gradle Plugin cannot be fetched on the
// project's Linux CI (no Google Maven there); CI compiles and tests the `fencepost` library with kotlinc
// instead (scripts/ci/30-kotlin.sh). See docs/mobile.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "fencepost-android"
include(":fencepost", ":app")
