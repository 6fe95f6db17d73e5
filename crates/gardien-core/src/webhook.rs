//! Webhooks as the Standard Webhooks specification defines them: which audit
//! actions are sent, an endpoint's event filter and address, its signing
//! secret (`whsec_` + base64), the signature of one delivery
//! (`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`), the body
//! of a message, and the retry schedule. No I/O: the store enqueues, the
//! `gardien-webhook` worker delivers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;

use crate::audit::AuditEvent;
use crate::ValidationError;

/// The audit actions sent to webhook endpoints: changes of access
/// (memberships, roles, overrides, assignments, invitations, ownership).
/// An event's `type` is its action. Logins and other `account.*` events
/// are never sent.
pub const EVENT_TYPES: &[&str] = &[
    "membership.activated",
    "membership.suspended",
    "membership.reactivated",
    "membership.removed",
    "membership.restored",
    "membership.role_changed",
    "membership.info_updated",
    "member.override_changed",
    "member.assigned",
    "member.unassigned",
    "role.created",
    "role.updated",
    "role.deleted",
    "invitation.created",
    "invitation.resent",
    "invitation.revoked",
    "invitation.accepted",
    "invitation.expired",
    "invitation.imported",
    "organization.ownership_transferred",
];

/// Whether audit events of `action` are sent to webhook endpoints.
pub fn is_event_type(action: &str) -> bool {
    EVENT_TYPES.contains(&action)
}

/// What every secret starts with (the specification's convention).
pub const SECRET_PREFIX: &str = "whsec_";
/// How many random bytes a new secret holds (the specification allows 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// The text of a new secret made of `bytes` (from the OS's random source).
pub fn secret_from_bytes(bytes: [u8; SECRET_BYTES]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key a secret stands for: the base64 after `whsec_` (the prefix may
/// be left out), 24 to 64 bytes.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, ValidationError> {
    let encoded = secret.trim();
    let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
    match STANDARD.decode(encoded) {
        Ok(key) if (24..=64).contains(&key.len()) => Ok(key),
        _ => Err(ValidationError::MalformedToken),
    }
}

/// The `webhook-signature` header of a delivery: `v1,` and the base64 of
/// HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's key.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The most types and prefixes one endpoint may list.
pub const FILTER_MAX: usize = 50;

/// Which events an endpoint receives: types (`member.assigned`) and
/// prefixes (`membership.*`); empty: every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter(Vec<String>);

impl EventFilter {
    /// Every item must be a type of [`EVENT_TYPES`] or the prefix of some
    /// (`membership.*`); the error names the first item refused, by its place.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, (usize, ValidationError)> {
        if items.len() > FILTER_MAX {
            return Err((
                FILTER_MAX,
                ValidationError::TooLong {
                    field: "events",
                    max: FILTER_MAX,
                },
            ));
        }
        let mut parsed: Vec<String> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item = item.as_ref().trim();
            let known = match item.strip_suffix('*') {
                Some(prefix) => {
                    prefix.ends_with('.') && EVENT_TYPES.iter().any(|t| t.starts_with(prefix))
                }
                None => is_event_type(item),
            };
            if !known {
                return Err((
                    index,
                    ValidationError::UnknownValue(item.to_owned(), "webhook event type"),
                ));
            }
            if !parsed.iter().any(|p| p == item) {
                parsed.push(item.to_owned());
            }
        }
        Ok(Self(parsed))
    }

    /// A filter read back from storage, trusted as written.
    pub fn from_stored(items: Vec<String>) -> Self {
        Self(items)
    }

    pub fn items(&self) -> &[String] {
        &self.0
    }

    pub fn matches(&self, event_type: &str) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|item| match item.strip_suffix('*') {
                Some(prefix) => event_type.starts_with(prefix),
                None => item == event_type,
            })
    }
}

/// The longest endpoint address accepted.
pub const URL_MAX: usize = 2000;

/// An endpoint's address: an absolute `http://` or `https://` URL with a host.
pub fn parse_url(input: &str) -> Result<String, ValidationError> {
    let input = input.trim();
    let refuse = || ValidationError::WebhookUrl(input.chars().take(200).collect());
    if input.len() > URL_MAX {
        return Err(ValidationError::TooLong {
            field: "url",
            max: URL_MAX,
        });
    }
    let url = url::Url::parse(input).map_err(|_| refuse())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(refuse());
    }
    Ok(url.to_string())
}

/// Whether a webhook may be sent to `ip`: a public unicast address. An
/// endpoint is its organization's own public service, never a way into the
/// deployment's network, so loopback, private (RFC 1918, unique local),
/// link-local (cloud metadata at 169.254.169.254), shared (100.64/10),
/// unspecified, broadcast, multicast, documentation, benchmarking and
/// reserved addresses are refused, and so is an IPv4 address wrapped in
/// IPv6 (mapped, NAT64) that would be refused itself.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    if segments[0] == 0x64 && segments[1] == 0xff9b {
        let [.., a, b, c, d] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        || segments[..6] == [0; 6])
}

/// The body of the message telling of `event`:
/// `{"type", "timestamp", "data": {organization_id, audit_event_id, actor,
/// target, before, after}}`.
pub fn payload(event: &AuditEvent) -> String {
    let timestamp = event
        .occurred_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| event.occurred_at.unix_timestamp().to_string());
    serde_json::json!({
        "type": event.action,
        "timestamp": timestamp,
        "data": {
            "organization_id": event.organization_id,
            "audit_event_id": event.id,
            "actor": event.actor,
            "target": event.target,
            "before": event.before,
            "after": event.after,
        },
    })
    .to_string()
}

/// When failed deliveries are tried again: the delay after each failed
/// attempt; after the last one the message is abandoned (`failed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    /// The specification's suggestion: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
    /// 10 h, for 8 attempts in about 27 hours.
    fn default() -> Self {
        Self(
            [5, 300, 1800, 7200, 18000, 36000, 36000]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl RetrySchedule {
    pub fn new(delays: Vec<Duration>) -> Self {
        Self(delays)
    }

    /// A comma-separated list of delays in seconds (`5,300,1800`); empty:
    /// no retry.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<u64>()
                    .ok()
                    .filter(|n| (1..=7 * 24 * 3600).contains(n))
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("'{s}' is not a delay of 1 to 604800 seconds"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The delay after the failure of attempt number `attempt` (1-based);
    /// `None`: that was the last attempt.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        self.0.get(index).copied()
    }

    /// How many attempts a message gets at most.
    pub fn max_attempts(&self) -> usize {
        self.0.len() + 1
    }

    pub fn delays(&self) -> &[Duration] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_public_addresses_receive_webhooks() {
        use std::net::IpAddr;
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(super::is_public_address(ip), "{public}");
        }
        for internal in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "::127.0.0.1",
        ] {
            let ip: IpAddr = internal.parse().unwrap();
            assert!(!super::is_public_address(ip), "{internal}");
        }
    }

    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_test_vector() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // Any other id, time or body signs differently.
        assert_ne!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_331,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_decode_to_their_bytes_and_bad_ones_are_refused() {
        let secret = secret_from_bytes([7; SECRET_BYTES]);
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret_key(&secret).unwrap(), vec![7; SECRET_BYTES]);
        assert!(secret_key("whsec_not base64!").is_err());
        // Too short a key (5 bytes).
        assert!(secret_key("whsec_c2hvcnQ=").is_err());
    }

    #[test]
    fn filters_take_known_types_and_prefixes_only() {
        let filter = EventFilter::parse(&["membership.*", "member.assigned"]).unwrap();
        assert!(filter.matches("membership.suspended"));
        assert!(filter.matches("member.assigned"));
        assert!(!filter.matches("member.unassigned"));
        assert!(!filter.matches("role.created"));
        assert!(EventFilter::default().matches("role.created"));
        assert_eq!(
            EventFilter::parse(&["role.created", "account.logged_in"])
                .unwrap_err()
                .0,
            1
        );
        assert!(EventFilter::parse(&["account.*"]).is_err());
        assert!(EventFilter::parse(&["member*"]).is_err());
        assert!(EventFilter::parse(&["*"]).is_err());
        assert_eq!(
            EventFilter::parse(&["role.*", " role.* "]).unwrap().items(),
            ["role.*"]
        );
    }

    #[test]
    fn urls_are_absolute_http_or_https() {
        assert_eq!(
            parse_url(" https://portal.example.com/hooks ").unwrap(),
            "https://portal.example.com/hooks"
        );
        assert!(parse_url("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "",
            "portal.example.com/hooks",
            "ftp://portal.example.com/",
            "javascript:alert(1)",
            "https://user:pass@portal.example.com/",
            "file:///etc/passwd",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let schedule = RetrySchedule::default();
        let secs = |n| schedule.delay_after(n).map(|d| d.as_secs());
        assert_eq!(secs(0), None);
        assert_eq!(secs(1), Some(5));
        assert_eq!(secs(2), Some(300));
        assert_eq!(secs(7), Some(36000));
        assert_eq!(secs(8), None);
        assert_eq!(schedule.max_attempts(), 8);
        assert_eq!(
            RetrySchedule::parse("1, 2").unwrap().delays(),
            [Duration::from_secs(1), Duration::from_secs(2)]
        );
        assert!(RetrySchedule::parse("0").is_err());
        assert!(RetrySchedule::parse("soon").is_err());
        assert_eq!(RetrySchedule::parse("").unwrap().max_attempts(), 1);
    }

    #[test]
    fn payload_names_the_type_time_and_event() {
        let event = AuditEvent {
            id: crate::AuditEventId::new(),
            occurred_at: time::macros::datetime!(2026-11-02 10:00 UTC),
            organization_id: Some(crate::OrganizationId::new()),
            actor: crate::audit::Actor::System,
            action: "member.assigned".into(),
            target: Some("membership:x".into()),
            before: None,
            after: Some(serde_json::json!({"resource": "order:42"})),
            ip: Some("10.0.0.1".into()),
            user_agent: None,
            request_id: None,
        };
        let body: serde_json::Value = serde_json::from_str(&payload(&event)).unwrap();
        assert_eq!(body["type"], "member.assigned");
        assert_eq!(body["timestamp"], "2026-11-02T10:00:00Z");
        assert_eq!(body["data"]["audit_event_id"], event.id.to_string());
        assert_eq!(body["data"]["after"]["resource"], "order:42");
        // Where the request came from stays in the audit trail.
        assert!(body["data"].get("ip").is_none());
    }
}
