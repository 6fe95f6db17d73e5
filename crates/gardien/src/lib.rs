//! The `gardien` binary's library: configuration, telemetry, and the
//! [`Application`] that wires storage, mail and HTTP together. Tests start the
//! very same `Application` on a random port.

pub mod cli;
pub mod config;
pub mod demo;
mod mail;
mod retention;
pub mod secret;
pub mod startup;
pub mod telemetry;

pub use startup::{Application, StartError};
