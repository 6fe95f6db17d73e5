//! Password hashing: Argon2id with the OWASP parameters (m = 19 MiB, t = 2,
//! p = 1). Hashing costs tens of milliseconds of CPU on purpose, so it runs
//! on the blocking pool behind a semaphore: a flood of logins queues here
//! instead of starving the async runtime that serves every other request.

use std::sync::{Arc, LazyLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use gardien_core::Password;
use tokio::sync::Semaphore;

use crate::ServiceError;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn argon2() -> Argon2<'static> {
    // The parameters are constants known to be valid.
    #[allow(clippy::expect_used)]
    let params =
        Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, verified when the account asked for
/// does not exist so that the answer takes as long as a real check.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    use argon2::PasswordHasher as _;
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(b"gardien-dummy-password", &salt)
        .ok()
        .map(|hash| hash.to_string())
});

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    /// At most two hashes per CPU at a time.
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            permits: Arc::new(Semaphore::new(cpus * 2)),
        }
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String, ServiceError> {
        let password = password.expose().to_owned();
        self.run(move || {
            use argon2::PasswordHasher as _;
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| ServiceError::Hashing(e.to_string()))
        })
        .await
    }

    /// Whether `candidate` matches `stored`. With no stored hash (unknown
    /// account, or an account without a password) a dummy hash is checked
    /// so that the time taken tells nothing, and the answer is `false`.
    pub async fn verify(
        &self,
        stored: Option<String>,
        candidate: &str,
    ) -> Result<bool, ServiceError> {
        let candidate = candidate.to_owned();
        self.run(move || {
            let real = stored.is_some();
            let Some(phc) = stored.or_else(|| DUMMY_HASH.clone()) else {
                return Ok(false);
            };
            let parsed =
                PasswordHash::new(&phc).map_err(|e| ServiceError::Hashing(e.to_string()))?;
            let matches = argon2()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok();
            Ok(real && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ServiceError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| ServiceError::Hashing(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gardien_core::Email;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new();
        let email = Email::parse("ana@example.fr").unwrap();
        let password = Password::parse("a long and unusual phrase", &email).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher
            .verify(Some(hash.clone()), "a long and unusual phrase")
            .await
            .unwrap());
        assert!(!hasher.verify(Some(hash), "another phrase").await.unwrap());
        assert!(!hasher.verify(None, "gardien-dummy-password").await.unwrap());
    }
}
