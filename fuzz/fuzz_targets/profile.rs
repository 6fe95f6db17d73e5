//! The profile form (names, phone, title, notification email, language):
//! never a panic.
#![no_main]

use gardien_core::{Email, ProfileInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|fields: (String, String, String, String, String, String)| {
    let (first_name, last_name, phone, title, notification_email, language) = fields;
    let login = Email::parse("ana@example.fr").unwrap();
    let input = ProfileInput {
        first_name,
        last_name,
        phone,
        title,
        notification_email,
        language,
    };
    let _ = input.parse(&login);
});
