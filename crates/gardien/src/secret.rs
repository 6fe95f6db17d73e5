//! The deployment's secret key (signs CSRF tokens): given by configuration,
//! or generated once and kept in the data folder, readable only by its owner.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

use crate::config::ConfigError;

const FILE_NAME: &str = "secret.key";

pub fn load_or_create(explicit: Option<&str>, data_dir: &Path) -> Result<[u8; 32], ConfigError> {
    if let Some(text) = explicit {
        return decode(text).ok_or_else(|| {
            ConfigError("GARDIEN_SECRET_KEY must be 32 bytes in base64 (generate one with: openssl rand -base64 32)".into())
        });
    }
    let path = data_dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(&text).ok_or_else(|| {
            ConfigError(format!(
                "the secret key file {} is damaged: delete it to generate a new one (signed-in browsers will need to reload their forms)",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            write_private(&path, STANDARD.encode(key).as_bytes()).map_err(|e| {
                ConfigError(format!("cannot write the secret key file {}: {e}", path.display()))
            })?;
            Ok(key)
        }
        Err(e) => Err(ConfigError(format!("cannot read the secret key file {}: {e}", path.display()))),
    }
}

fn decode(text: &str) -> Option<[u8; 32]> {
    STANDARD.decode(text.trim()).ok()?.try_into().ok()
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(None, dir.path()).unwrap();
        let second = load_or_create(None, dir.path()).unwrap();
        assert_eq!(first, second);
        assert_ne!(first, [0u8; 32]);
    }

    #[test]
    fn explicit_key_must_be_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_or_create(Some("c2hvcnQ="), dir.path()).is_err());
        let key = STANDARD.encode([9u8; 32]);
        assert_eq!(load_or_create(Some(&key), dir.path()).unwrap(), [9u8; 32]);
    }
}
