// The Kotlin library: generated UniFFI bindings + the idiomatic wrapper (src/main/kotlin), with the Rust
// library per ABI from build-rust.sh (cargo-ndk) in src/main/jniLibs. Its JVM tests (src/test) run on CI
// with kotlinc against the host library (scripts/ci/30-kotlin.sh).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val generatedBindings = layout.buildDirectory.dir("generated/uniffi/kotlin")

android {
    namespace = "dev.fencepost"
    compileSdk = 35
    defaultConfig { minSdk = 26 }
    sourceSets["main"].java.srcDir(generatedBindings)
    sourceSets["main"].jniLibs.srcDir("src/main/jniLibs")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

// Bindings are a build output: regenerate them from the host debug library (which carries the UniFFI
// metadata) before compiling.
val generateBindings by tasks.registering(Exec::class) {
    val repo = rootProject.projectDir.parentFile
    workingDir = repo
    commandLine("bash", "-c",
        "bindings/generate.sh >/dev/null && rm -rf '${generatedBindings.get().asFile}' && " +
            "mkdir -p '${generatedBindings.get().asFile}' && " +
            "cp -r \"\${CARGO_TARGET_DIR:-target}/uniffi/kotlin/.\" '${generatedBindings.get().asFile}'")
}
tasks.named("preBuild") { dependsOn(generateBindings) }

dependencies {
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    testImplementation("junit:junit:4.13.2")
    testImplementation("org.jetbrains.kotlin:kotlin-test-junit:2.1.0")
}
