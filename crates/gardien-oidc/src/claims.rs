//! What the tokens and the userinfo endpoint say about a person, by scope:
//! `openid` the subject, `email` the address, `profile` the name and locale,
//! `organization` the organization chosen at login, the kind of membership,
//! the role and the effective permissions there.

use serde::{Deserialize, Serialize};

use crate::scope::Scope;

/// Everything Gardien may tell about the person of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The account id.
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: String,
    pub family_name: String,
    /// A BCP 47 tag (`fr`, `en`).
    pub locale: String,
    pub membership: Option<MembershipClaims>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// The organization a grant is for, and the person's place in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipClaims {
    pub organization: Named,
    /// `staff` or `client`.
    pub membership_kind: String,
    pub role: Named,
    /// The effective permission keys (role and overrides), sorted.
    pub permissions: Vec<String>,
}

/// The claims of a scope, shared by ID tokens and userinfo.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipClaims>,
}

impl UserClaims {
    /// What `scope` lets the client learn of `identity`.
    pub fn of(identity: &Identity, scope: &Scope) -> Self {
        let mut claims = UserClaims::default();
        if scope.has("email") {
            claims.email = Some(identity.email.clone());
            claims.email_verified = Some(identity.email_verified);
        }
        if scope.has("profile") {
            let name = format!("{} {}", identity.given_name, identity.family_name);
            let name = name.trim();
            if !name.is_empty() {
                claims.name = Some(name.to_owned());
            }
            claims.given_name = Some(identity.given_name.clone()).filter(|n| !n.is_empty());
            claims.family_name = Some(identity.family_name.clone()).filter(|n| !n.is_empty());
            claims.locale = Some(identity.locale.clone());
        }
        if scope.has("organization") {
            claims.membership = identity.membership.clone();
        }
        claims
    }
}

/// An ID token (OpenID Connect Core §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The grant the token belongs to (what a logout ends).
    pub sid: String,
    #[serde(flatten)]
    pub user: UserClaims,
}

/// An access token (JWT profile, RFC 9068).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    /// The grant the token belongs to: revoking it, or the membership
    /// ending, ends the token before its expiry.
    pub sid: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            subject: "a1".into(),
            email: "claire@example.com".into(),
            email_verified: true,
            given_name: "Claire".into(),
            family_name: "Martin".into(),
            locale: "fr".into(),
            membership: Some(MembershipClaims {
                organization: Named {
                    id: "o1".into(),
                    name: "Acme".into(),
                },
                membership_kind: "staff".into(),
                role: Named {
                    id: "r1".into(),
                    name: "Billing".into(),
                },
                permissions: vec!["invoices.read".into()],
            }),
        }
    }

    #[test]
    fn each_scope_reveals_its_claims_only() {
        let bare = UserClaims::of(&identity(), &Scope::parse("openid").unwrap());
        assert_eq!(bare, UserClaims::default());

        let all = UserClaims::of(
            &identity(),
            &Scope::parse("openid email profile organization").unwrap(),
        );
        let json = serde_json::to_value(&all).unwrap();
        assert_eq!(json["email"], "claire@example.com");
        assert_eq!(json["name"], "Claire Martin");
        assert_eq!(json["locale"], "fr");
        assert_eq!(json["organization"]["name"], "Acme");
        assert_eq!(json["membership_kind"], "staff");
        assert_eq!(json["role"]["name"], "Billing");
        assert_eq!(json["permissions"][0], "invoices.read");

        let no_org = UserClaims::of(&identity(), &Scope::parse("openid email").unwrap());
        assert!(serde_json::to_value(&no_org)
            .unwrap()
            .get("organization")
            .is_none());
    }
}
