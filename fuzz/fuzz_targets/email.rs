//! Email addresses (sign-up, invitations, CSV rows, login): never a panic,
//! and an accepted address parses again to the same normalized form.
#![no_main]

use gardien_core::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(email) = Email::parse(input) {
        let again = Email::parse(email.as_str()).expect("an accepted address parses again");
        assert_eq!(again.normalized(), email.normalized());
    }
});
