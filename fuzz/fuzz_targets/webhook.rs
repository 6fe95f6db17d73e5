//! Webhook endpoints: the URL, the event filter and the retry schedule
//! setting: never a panic.
#![no_main]

use gardien_core::webhook::{parse_url, EventFilter, RetrySchedule};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, Vec<String>, &str)| {
    let (url, events, retries) = input;
    let _ = parse_url(url);
    let _ = EventFilter::parse(&events);
    let _ = RetrySchedule::parse(retries);
});
