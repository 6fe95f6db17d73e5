//! The portal's own sessions, in memory: a random cookie value maps to who
//! logged in through Gardien and in which organization. Logins under way
//! (between `/login` and `/callback`) are kept the same way, keyed by a
//! second cookie, so that a callback is only accepted in the browser that
//! started it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use uuid::Uuid;

/// A session ends this long after login, however active.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// A login must come back from Gardien within this time.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// An organization or a role, as Gardien's claims name them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Named {
    pub id: Uuid,
    pub name: String,
}

/// Who is logged in, from the ID token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// Gardien's account id (`sub`).
    pub account_id: Uuid,
    pub name: String,
    pub email: String,
    pub organization: Named,
    /// `staff` or `client`.
    pub kind: String,
    /// The raw ID token, for the logout's `id_token_hint`.
    pub id_token: String,
    /// Login time plus [`SESSION_LIFETIME`].
    pub expires_at: Instant,
}

/// A login under way: what `/callback` must find again.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where to go once logged in (a path of the portal).
    pub next: String,
    /// Start plus [`LOGIN_LIFETIME`].
    pub expires_at: Instant,
}

#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, PortalSession>>,
    logins: Mutex<HashMap<String, PendingLogin>>,
}

/// 256 random bits, URL-safe: cookie values and ids.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    /// Opens a session: the cookie's value.
    pub fn open(&self, session: PortalSession) -> String {
        let id = random_id();
        let mut sessions = self.sessions.lock().expect("sessions lock");
        sessions.retain(|_, s| Instant::now() < s.expires_at);
        sessions.insert(id.clone(), session);
        id
    }

    /// The live session of a cookie's value.
    pub fn get(&self, id: &str) -> Option<PortalSession> {
        let mut sessions = self.sessions.lock().expect("sessions lock");
        match sessions.get(id) {
            Some(session) if Instant::now() < session.expires_at => Some(session.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session: its cookie no longer works.
    pub fn close(&self, id: &str) -> Option<PortalSession> {
        self.sessions.lock().expect("sessions lock").remove(id)
    }

    /// Remembers a login under way: the cookie's value.
    pub fn start_login(&self, login: PendingLogin) -> String {
        let id = random_id();
        let mut logins = self.logins.lock().expect("logins lock");
        logins.retain(|_, l| Instant::now() < l.expires_at);
        logins.insert(id.clone(), login);
        id
    }

    /// Takes the login under way of this cookie, once, if it is recent and
    /// `state` is the one it sent to Gardien.
    pub fn finish_login(&self, id: &str, state: &str) -> Option<PendingLogin> {
        let login = self.logins.lock().expect("logins lock").remove(id)?;
        (Instant::now() < login.expires_at && login.state == state).then_some(login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> PortalSession {
        PortalSession {
            account_id: Uuid::nil(),
            name: "Julie Bernard".into(),
            email: "courrier@demo.gardien.test".into(),
            organization: Named {
                id: Uuid::nil(),
                name: "Boulangerie Martin".into(),
            },
            kind: "staff".into(),
            id_token: "x.y.z".into(),
            expires_at: Instant::now() + SESSION_LIFETIME,
        }
    }

    fn login(state: &str) -> PendingLogin {
        PendingLogin {
            state: state.into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            next: "/".into(),
            expires_at: Instant::now() + LOGIN_LIFETIME,
        }
    }

    #[test]
    fn sessions_open_and_close() {
        let sessions = Sessions::default();
        let id = sessions.open(session());
        assert_eq!(id.len(), 43, "256 bits, base64url");
        assert_eq!(sessions.get(&id).unwrap().name, "Julie Bernard");
        assert!(sessions.get("forged").is_none());
        assert!(sessions.close(&id).is_some());
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn old_sessions_end() {
        let sessions = Sessions::default();
        let mut old = session();
        old.expires_at = Instant::now();
        let id = sessions.open(old);
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn a_login_finishes_once_and_only_with_its_state() {
        let sessions = Sessions::default();
        let id = sessions.start_login(login("s1"));
        assert!(
            sessions.finish_login(&id, "other").is_none(),
            "a wrong state"
        );
        // A wrong state used the login up: no second try with the right one.
        assert!(sessions.finish_login(&id, "s1").is_none());
        let id = sessions.start_login(login("s2"));
        assert!(sessions.finish_login(&id, "s2").is_some());
        assert!(sessions.finish_login(&id, "s2").is_none(), "single use");
    }

    #[test]
    fn a_stale_login_is_refused() {
        let sessions = Sessions::default();
        let mut stale = login("s");
        stale.expires_at = Instant::now();
        let id = sessions.start_login(stale);
        assert!(sessions.finish_login(&id, "s").is_none());
    }
}
