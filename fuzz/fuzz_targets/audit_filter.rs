//! The audit trail's query filters (dates, actor, action prefix, member,
//! cursor, page size): never a panic.
#![no_main]

use gardien_service::AuditFilterInput;
use libfuzzer_sys::fuzz_target;

type Fields = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<u32>,
);

fuzz_target!(|fields: Fields| {
    let (from, to, actor, action, member, cursor, limit) = fields;
    let input = AuditFilterInput {
        from,
        to,
        actor,
        action,
        member,
        cursor,
        limit,
    };
    let _ = input.parse();
});
