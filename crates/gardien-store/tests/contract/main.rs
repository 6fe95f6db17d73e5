//! The storage contract suite, as one test binary: the behaviour every back
//! end of `Store` must have, each test run unchanged on SQLite and on
//! PostgreSQL, on a fresh database.
//!
//! Run one part with `cargo test -p gardien-store --test contract PART::`.

mod access;
mod audit;
mod authz;
mod base;
mod roles;
mod self_service;
mod team;
mod webhooks;
