//! Gardien's integration tests, as one test binary (one link, one set of
//! artifacts): the real HTTP stack, SMTP, Chromium and the `gardien` binary,
//! each module on both storage back ends.
//!
//! Run one module with `cargo test -p gardien --test app MODULE::`.

#[macro_use]
mod support;

mod access;
mod advisories;
mod audit;
mod browser_activation;
mod browser_audit;
mod browser_invite_options;
mod browser_member;
mod browser_oidc;
mod browser_password_reset;
mod browser_profile;
mod browser_roles;
mod browser_shell;
mod browser_sign_up;
mod browser_team;
mod browser_team_import;
mod checks;
mod consent;
mod crash;
mod email_change;
mod expiry;
mod health;
mod invite_options;
mod isolation_model;
mod my_sessions;
mod notifications;
mod oidc;
mod ownership;
mod password_reset;
mod personal_data;
mod process;
mod profile;
mod propagation;
mod rate_limits;
mod roles;
mod session;
mod signup;
mod startup;
mod team;
mod team_admin;
mod webhooks;
