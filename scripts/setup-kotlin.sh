#!/usr/bin/env bash
# Installs what the Kotlin JVM tests need, idempotently:
#  - kotlinc 2.4.20 from the npm package `kotlin-compiler` into .tools/kotlin (its lib/ also carries
#    kotlinx-coroutines-core-jvm 1.8, kotlin-test and kotlin-stdlib, which the tests use);
#  - JNA from Debian's libjna-java (/usr/share/java/jna.jar), which UniFFI's Kotlin bindings load through.
#  - JUnit 4 from Debian (junit4, with hamcrest) to run the tests with JUnitCore; no Maven repo is needed.
# Debian's libkotlinx-coroutines-java (1.0.1) is too old for UniFFI's generated code, hence the bundled jar.
#
# Prints `KOTLIN_HOME=...` on its last line.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
home="$repo/.tools/kotlin/node_modules/kotlin-compiler"
start=$SECONDS

if [[ ! -f /usr/share/java/jna.jar || ! -f /usr/share/java/junit4.jar ]]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq libjna-java junit4 >/dev/null
fi

if [[ ! -x "$home/bin/kotlinc" ]]; then
  mkdir -p "$repo/.tools/kotlin"
  npm install --silent --no-audit --no-fund --prefix "$repo/.tools/kotlin" kotlin-compiler@2.4.20 >/dev/null
  chmod +x "$home"/bin/*
fi

for jar in kotlinx-coroutines-core-jvm.jar kotlin-test.jar kotlin-stdlib.jar; do
  [[ -f "$home/lib/$jar" ]] || { echo "setup-kotlin: $jar missing from $home/lib" >&2; exit 1; }
done
echo "setup-kotlin: ready in $((SECONDS - start)) s"
echo "KOTLIN_HOME=$home"
