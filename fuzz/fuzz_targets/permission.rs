//! Permission keys and host resources (check API, overrides, assignments):
//! never a panic; an accepted key parses again to itself.
#![no_main]

use gardien_core::access::resource;
use gardien_core::PermissionKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str)| {
    let (key, kind, id) = input;
    if let Ok(parsed) = PermissionKey::parse(key) {
        assert_eq!(
            PermissionKey::parse(parsed.as_str()).unwrap().as_str(),
            parsed.as_str()
        );
    }
    let _ = resource(kind, id, "resource_type", "resource_id");
});
