//! The deployment's permission catalog (TOML): never a panic.
#![no_main]

use gardien_core::permission::PermissionCatalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = PermissionCatalog::from_toml(text);
});
