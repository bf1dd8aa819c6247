//! `cargo run -p uniffi-bindgen -- generate --library <libfencepost_ffi.so> --language kotlin|swift --out-dir DIR`
//!
//! Generates the Kotlin and Swift bindings from the metadata embedded in an unstripped build of
//! `fencepost-ffi` (library mode). The generated sources are build outputs, never committed.

fn main() {
    uniffi::uniffi_bindgen_main()
}
