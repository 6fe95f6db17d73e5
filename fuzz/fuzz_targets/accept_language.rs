//! The `Accept-Language` header: never a panic.
#![no_main]

use gardien_core::Language;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|header: &str| {
    let _ = Language::negotiate(header);
});
