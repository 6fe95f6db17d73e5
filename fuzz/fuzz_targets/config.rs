//! The configuration file (TOML) and the checks of every setting: never a
//! panic. No file is read: the file's own `config` and `permission_catalog`
//! paths are dropped before the settings are resolved.
#![no_main]

use gardien::config::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(mut settings) = toml::from_str::<Settings>(text) {
        settings.config = None;
        settings.permission_catalog = None;
        let _ = settings.resolve();
    }
});
