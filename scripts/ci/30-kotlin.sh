#!/usr/bin/env bash
# Kotlin: generates the bindings from the real library, compiles them with the Kotlin wrapper
# (android/fencepost) and its JVM tests with kotlinc, starts a real `fencepost serve`, and runs the tests
# with JUnit against both. Installs kotlinc/JNA/JUnit on a fresh machine (scripts/setup-kotlin.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"

kotlin_home="$(scripts/setup-kotlin.sh | sed -n 's/^KOTLIN_HOME=//p')"
libdir="$(bindings/generate.sh)"
cargo build --locked -q -p fencepost-cli --bin fencepost

out="$target/kotlin-tests"
rm -rf "$out" && mkdir -p "$out"
lib="$kotlin_home/lib"
cp="/usr/share/java/jna.jar:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-test.jar:$lib/kotlin-test-junit.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar"

echo "kotlinc: bindings + wrapper + tests"
start=$SECONDS
# -nowarn: the generated bindings trigger warnings we do not own.
"$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 -cp "$cp" -d "$out/classes" \
  "$target/uniffi/kotlin" android/fencepost/src/main/kotlin android/fencepost/src/test/kotlin
echo "kotlinc: $((SECONDS - start)) s"

# shellcheck source=bindings/test-server.sh
source bindings/test-server.sh
start_test_server "$target/debug/fencepost" "$out/server"

tests=$(cd android/fencepost/src/test/kotlin && find . -name '*Test.kt' | sed 's|^\./||; s|\.kt$||; s|/|.|g' | sort)
# shellcheck disable=SC2086 # one argument per test class
FENCEPOST_REPO="$repo" java -Djna.library.path="$libdir" -cp "$out/classes:$cp:$lib/kotlin-stdlib.jar" \
  org.junit.runner.JUnitCore $tests | tee "$out/junit.log"
