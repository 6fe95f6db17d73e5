//! Password hashing: Argon2id with the OWASP parameters (m = 19 MiB, t = 2,
//! p = 1). Hashing costs tens of milliseconds of CPU on purpose, so it runs
//! on the blocking pool behind a semaphore: a flood of logins queues here
//! instead of starving the async runtime that serves every other request.
//!
//! Each hash needs 19 MiB of working memory. The allocator would map and
//! return that much per login, so the process's resident memory would jump
//! by 19 MiB with every one; instead each permit's job borrows a buffer from
//! a small pool (at most one per permit, made on first use) and gives it
//! back, so a stream of logins allocates nothing and memory stays level.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    memory: Arc<MemoryPool>,
}

/// Argon2 working memory kept for reuse. Jobs hold a permit while they
/// borrow, so the pool never holds more buffers than there are permits.
#[derive(Default)]
struct MemoryPool {
    free: Mutex<Vec<Vec<Block>>>,
}

impl MemoryPool {
    /// Runs `job` with `count` blocks of working memory (contents unspecified:
    /// Argon2 writes every block before it reads it).
    fn with_blocks<R>(&self, count: usize, job: impl FnOnce(&mut [Block]) -> R) -> R {
        let reused = self.lock().pop().filter(|blocks| blocks.len() >= count);
        let mut blocks = reused.unwrap_or_else(|| vec![Block::default(); count]);
        let result = job(&mut blocks[..count]);
        self.lock().push(blocks);
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The Argon2 output of `password` and `salt` (as a PHC string writes it,
/// in base64) under `hasher`, into a fresh output of `len` bytes, with
/// working memory from `pool`.
fn compute(
    hasher: &Argon2<'_>,
    pool: &MemoryPool,
    password: &[u8],
    salt: Salt<'_>,
    len: usize,
) -> Result<Output, ServiceError> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(hashing)?;
    let blocks = hasher.params().block_count();
    pool.with_blocks(blocks, |memory| {
        Output::init_with(len, |out| {
            hasher
                .hash_password_into_with_memory(password, salt, out, &mut *memory)
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
    })
    .map_err(hashing)
}

fn hashing(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Hashing(error.to_string())
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
            memory: Arc::default(),
        }
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password`.
    pub async fn hash(&self, password: &Password) -> Result<String, ServiceError> {
        let password = password.expose().to_owned();
        let pool = Arc::clone(&self.memory);
        self.run(move || {
            let hasher = argon2();
            let salt = SaltString::generate(&mut OsRng);
            let output = compute(
                &hasher,
                &pool,
                password.as_bytes(),
                salt.as_salt(),
                Params::DEFAULT_OUTPUT_LEN,
            )?;
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(hasher.params()).map_err(hashing)?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok(hash.to_string())
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
        let pool = Arc::clone(&self.memory);
        self.run(move || {
            let real = stored.is_some();
            let Some(phc) = stored.or_else(|| DUMMY_HASH.clone()) else {
                return Ok(false);
            };
            // The stored hash names its own algorithm and parameters (older
            // hashes keep verifying after the defaults change). A hash of
            // another scheme, or with parameters Argon2 refuses, matches no
            // password.
            let parsed = PasswordHash::new(&phc).map_err(hashing)?;
            let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
                return Ok(false);
            };
            let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
                return Ok(false);
            };
            let version = match parsed.version.map(Version::try_from).transpose() {
                Ok(version) => version.unwrap_or_default(),
                Err(_) => return Ok(false),
            };
            let Ok(params) = Params::try_from(&parsed) else {
                return Ok(false);
            };
            let hasher = Argon2::new(algorithm, version, params);
            let Ok(computed) = compute(&hasher, &pool, candidate.as_bytes(), salt, expected.len())
            else {
                return Ok(false);
            };
            // `Output`'s equality is constant-time.
            Ok(real && computed == expected)
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

    /// The pooled computation is Argon2 itself: its hashes verify with the
    /// crate's own verifier, the crate's hashes (also with other
    /// parameters, as older hashes would have) verify here.
    #[tokio::test]
    async fn pooled_hashes_are_standard_argon2_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new();
        let email = Email::parse("ana@example.fr").unwrap();
        let password = Password::parse("a long and unusual phrase", &email).unwrap();
        let ours = hasher.hash(&password).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon2()
            .verify_password(b"a long and unusual phrase", &parsed)
            .is_ok());
        assert!(argon2().verify_password(b"another", &parsed).is_err());

        let salt = SaltString::generate(&mut OsRng);
        for (algorithm, memory) in [(Algorithm::Argon2id, 8_192), (Algorithm::Argon2i, 4_096)] {
            let params = Params::new(memory, 3, 1, Some(24)).unwrap();
            let theirs = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(b"an older phrase", &salt)
                .unwrap()
                .to_string();
            assert!(hasher
                .verify(Some(theirs.clone()), "an older phrase")
                .await
                .unwrap());
            assert!(!hasher
                .verify(Some(theirs), "an older phrasE")
                .await
                .unwrap());
        }
    }

    /// Hash after hash reuses one buffer: nothing is allocated per login.
    #[tokio::test]
    async fn working_memory_is_reused() {
        let hasher = PasswordHasher::new();
        let email = Email::parse("ana@example.fr").unwrap();
        let password = Password::parse("a long and unusual phrase", &email).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        let first = hasher.memory.lock()[0].as_ptr();
        for _ in 0..3 {
            assert!(hasher
                .verify(Some(hash.clone()), "a long and unusual phrase")
                .await
                .unwrap());
        }
        let free = hasher.memory.lock();
        assert_eq!(free.len(), 1);
        assert_eq!(free[0].as_ptr(), first);
        assert_eq!(free[0].len(), MEMORY_KIB as usize);
    }
}
