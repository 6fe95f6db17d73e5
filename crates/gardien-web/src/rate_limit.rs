//! Rate limits on the doors an attacker knocks at: login, sign-up, forgotten
//! password and emailed links (verification, reset). Each action has limits
//! per client address, per client address and target email, and per target
//! email whatever the address; the first limit reached refuses the request
//! with 429, `Retry-After` and "try again in N seconds".
//!
//! The limits live in memory (GCRA from `governor`), per instance: several
//! instances behind a balancer each allow the quota. Emails are keyed by the
//! SHA-256 of their normalized form, so the limiter holds no address. IPv6
//! clients are keyed by their /64, which one host usually owns whole.
//!
//! The client address is the TCP peer, or, when the peer is one of the
//! `--trusted-proxies`, the address that proxy read (`context.rs`): behind a
//! proxy that is not declared, every client shares the proxy's address.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// A limit: `burst` requests at once, then one every `period / burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub period: Duration,
}

impl Limit {
    pub const fn per_minute(burst: u32) -> Self {
        Self {
            burst,
            period: Duration::from_secs(60),
        }
    }
    pub const fn per_hour(burst: u32) -> Self {
        Self {
            burst,
            period: Duration::from_secs(3600),
        }
    }

    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        let replenish = self.period / burst.get();
        Quota::with_period(replenish)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// The limits of one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLimits {
    /// Per client address, whatever the email.
    pub per_ip: Limit,
    /// Per client address and target email.
    pub per_ip_and_email: Option<Limit>,
    /// Per target email, whatever the address (slows a distributed guesser
    /// down, and caps the mail one address can be sent).
    pub per_email: Option<Limit>,
}

/// Login: 10 a minute per address and email, 30 a minute per address,
/// 100 an hour per email.
pub const LOGIN: ActionLimits = ActionLimits {
    per_ip: Limit::per_minute(30),
    per_ip_and_email: Some(Limit::per_minute(10)),
    per_email: Some(Limit::per_hour(100)),
};
/// Sign-up: 10 a minute per address; 5 an hour per email (each sends mail).
pub const SIGN_UP: ActionLimits = ActionLimits {
    per_ip: Limit::per_minute(10),
    per_ip_and_email: None,
    per_email: Some(Limit::per_hour(5)),
};
/// Forgotten password: 10 a minute per address; 5 an hour per email (each
/// sends mail).
pub const PASSWORD_RESET_REQUEST: ActionLimits = ActionLimits {
    per_ip: Limit::per_minute(10),
    per_ip_and_email: None,
    per_email: Some(Limit::per_hour(5)),
};
/// Emailed links (email verification, password reset): 30 a minute per
/// address.
pub const EMAILED_LINK: ActionLimits = ActionLimits {
    per_ip: Limit::per_minute(30),
    per_ip_and_email: None,
    per_email: None,
};

/// The client address as a key: IPv6 addresses cut to their /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct IpKey(IpAddr);

impl IpKey {
    fn of(ip: Option<&str>) -> Self {
        let ip = ip
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Self(match ip {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().unwrap_or([0, 0, 0, 0].into())),
            v4 => v4,
        })
    }
}

/// SHA-256 of the normalized email (trimmed, lower-cased).
type EmailKey = [u8; 32];

fn email_key(email: &str) -> EmailKey {
    let normalized = match gardien_core::Email::parse(email) {
        Ok(email) => email.normalized().to_owned(),
        Err(_) => email.trim().to_lowercase(),
    };
    Sha256::digest(normalized.as_bytes()).into()
}

/// Entries are dropped once their quota is full again; checked this often.
const SWEEP_ABOVE: usize = 10_000;

struct Limiters {
    per_ip: DefaultKeyedRateLimiter<IpKey>,
    per_ip_and_email: Option<DefaultKeyedRateLimiter<(IpKey, EmailKey)>>,
    per_email: Option<DefaultKeyedRateLimiter<EmailKey>>,
}

impl Limiters {
    fn new(limits: ActionLimits) -> Self {
        Self {
            per_ip: RateLimiter::keyed(limits.per_ip.quota()),
            per_ip_and_email: limits
                .per_ip_and_email
                .map(|l| RateLimiter::keyed(l.quota())),
            per_email: limits.per_email.map(|l| RateLimiter::keyed(l.quota())),
        }
    }

    fn check(&self, ip: Option<&str>, email: Option<&str>) -> Result<(), ApiError> {
        let ip = IpKey::of(ip);
        check(&self.per_ip, &ip)?;
        if let Some(email) = email.map(email_key) {
            if let Some(limiter) = &self.per_ip_and_email {
                check(limiter, &(ip, email))?;
            }
            if let Some(limiter) = &self.per_email {
                check(limiter, &email)?;
            }
        }
        Ok(())
    }
}

fn check<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    if limiter.len() > SWEEP_ABOVE {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        // Rounded up: "try again in 0 seconds" would be a lie.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        ApiError::rate_limited(seconds.max(1))
    })
}

/// The rate limiters of one instance (in [`crate::AppState`]).
pub struct RateLimits {
    login: Limiters,
    sign_up: Limiters,
    password_reset_request: Limiters,
    emailed_link: Limiters,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimits {
    /// The limits documented on the constants of this module.
    pub fn new() -> Self {
        Self {
            login: Limiters::new(LOGIN),
            sign_up: Limiters::new(SIGN_UP),
            password_reset_request: Limiters::new(PASSWORD_RESET_REQUEST),
            emailed_link: Limiters::new(EMAILED_LINK),
        }
    }

    /// A login attempt from `ip` for `email`.
    pub fn login(&self, ip: Option<&str>, email: &str) -> Result<(), ApiError> {
        self.login.check(ip, Some(email))
    }

    /// A sign-up from `ip` with `email`.
    pub fn sign_up(&self, ip: Option<&str>, email: &str) -> Result<(), ApiError> {
        self.sign_up.check(ip, Some(email))
    }

    /// A new verification link asked from `ip` for `email`: the sign-up's
    /// budget, as both send that address the same kind of mail.
    pub fn verification_resend(&self, ip: Option<&str>, email: &str) -> Result<(), ApiError> {
        self.sign_up.check(ip, Some(email))
    }

    /// A forgotten-password request from `ip` for `email`.
    pub fn password_reset_request(&self, ip: Option<&str>, email: &str) -> Result<(), ApiError> {
        self.password_reset_request.check(ip, Some(email))
    }

    /// The use of an emailed link (verification or reset) from `ip`.
    pub fn emailed_link(&self, ip: Option<&str>) -> Result<(), ApiError> {
        self.emailed_link.check(ip, None)
    }
}

/// A page's answer to a refused attempt: the form again, with the message,
/// 429 and `Retry-After`.
pub(crate) fn refused_page(
    error: &ApiError,
    html: axum::response::Html<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let seconds = error.retry_after().unwrap_or(1);
    (
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        [(axum::http::header::RETRY_AFTER, seconds.to_string())],
        html,
    )
        .into_response()
}

/// The localized "try again in N seconds" of a refused attempt.
pub(crate) fn message(error: &ApiError, t: &crate::Translator) -> String {
    error.to_problem(t, None).detail.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_login_of_one_address_and_email_waits_the_others_do_not() {
        let limits = RateLimits::new();
        for _ in 0..10 {
            limits.login(Some("10.0.0.1"), "ana@example.fr").unwrap();
        }
        let refused = limits
            .login(Some("10.0.0.1"), " ANA@example.fr ")
            .unwrap_err();
        assert_eq!(refused.status().as_u16(), 429);
        assert!(refused.retry_after().is_some_and(|s| (1..=6).contains(&s)));
        limits.login(Some("10.0.0.1"), "bob@example.fr").unwrap();
        limits.login(Some("10.0.0.2"), "ana@example.fr").unwrap();
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(
            IpKey::of(Some("2001:db8:1:2:aaaa::1")),
            IpKey::of(Some("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            IpKey::of(Some("2001:db8:1:2::1")),
            IpKey::of(Some("2001:db8:1:3::1"))
        );
        assert_eq!(
            IpKey::of(Some("::ffff:10.0.0.1")),
            IpKey::of(Some("10.0.0.1"))
        );
    }
}
