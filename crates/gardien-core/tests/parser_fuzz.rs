//! Property-based fuzzing of the parsers of outside input (a stand-in for
//! cargo-fuzz, see `docs/security.md`): arbitrary and near-valid strings
//! must never panic, and what a parser accepts must parse again to the
//! same value. `GARDIEN_FUZZ_CASES=100000 cargo test -p gardien-core --test
//! parser_fuzz --release` runs longer (default 2000 inputs per target).

use gardien_core::access::resource;
use gardien_core::permission::PermissionCatalog;
use gardien_core::{Email, Language, PermissionKey, ProfileInput, Token};
use proptest::prelude::*;

/// Inputs per target: `GARDIEN_FUZZ_CASES`, default 2000.
fn cases() -> u32 {
    std::env::var("GARDIEN_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000)
}

fn near_email() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9._%+\\- @\"\\\\()<>,;:\\[\\]\u{e9}\u{0}\u{200b}]{0,80}",
        "[a-z0-9.+-]{0,70}@[a-z0-9.-]{0,260}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn email_parse_never_panics_and_round_trips(input in near_email()) {
        if let Ok(email) = Email::parse(&input) {
            let again = Email::parse(email.as_str()).expect("an accepted email parses again");
            prop_assert_eq!(again.normalized(), email.normalized());
        }
    }

    #[test]
    fn token_parse_never_panics_and_round_trips(
        input in prop_oneof![any::<String>(), "[A-Za-z0-9_\\-=+/]{0,60}"]
    ) {
        if let Ok(token) = Token::parse(&input) {
            prop_assert_eq!(token.expose(), input.as_str());
            prop_assert_eq!(Token::parse(token.expose()).unwrap().hash(), token.hash());
        }
    }

    #[test]
    fn accept_language_never_panics(
        header in prop_oneof![
            any::<String>(),
            "([a-zA-Z*\\-]{0,12}(;q=[0-9.]{0,6})?(;[a-z]=[^,]{0,4})?,? ?){0,40}",
        ]
    ) {
        let _ = Language::negotiate(&header);
    }

    #[test]
    fn permission_and_resource_parsing_never_panic(
        key in prop_oneof![any::<String>(), "[a-z0-9._*\\-]{0,70}"],
        kind in prop_oneof![any::<String>(), "[a-z0-9_.\\-]{0,70}"],
        id in any::<String>(),
    ) {
        if let Ok(parsed) = PermissionKey::parse(&key) {
            let again = PermissionKey::parse(parsed.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), parsed.as_str());
        }
        let _ = resource(&kind, &id, "resource_type", "resource_id");
    }

    #[test]
    fn profile_input_parse_never_panics(
        first_name in any::<String>(),
        last_name in any::<String>(),
        phone in prop_oneof![any::<String>(), "[0-9+ .()\\-]{0,30}"],
        title in any::<String>(),
        notification_email in near_email(),
        language in prop_oneof![any::<String>(), "(en|fr|EN|Fr| en)"],
    ) {
        let login = Email::parse("ana@example.fr").unwrap();
        let input = ProfileInput { first_name, last_name, phone, title, notification_email, language };
        let _ = input.parse(&login);
    }

    #[test]
    fn permission_catalog_toml_never_panics(
        text in prop_oneof![
            any::<String>(),
            "(\\[\\[permissions\\]\\]\nkey = \"[a-z.]{0,12}\"\n(name_en|name_fr|group) = \"[^\"\n]{0,8}\"\n){0,6}",
        ]
    ) {
        let _ = PermissionCatalog::from_toml(&text);
    }
}
