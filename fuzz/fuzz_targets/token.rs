//! Secret tokens from links, cookies and `Authorization` headers: never a
//! panic; an accepted token is kept as given (without the surrounding
//! whitespace a copy and paste may add) and hashes stably.
#![no_main]

use gardien_core::Token;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(token) = Token::parse(input) {
        assert_eq!(token.expose(), input.trim());
        assert_eq!(Token::parse(token.expose()).unwrap().hash(), token.hash());
    }
});
