//! Signing keys: Ed25519 (JWS `EdDSA`, RFC 8037). A key's private half is
//! never stored: it is derived from the deployment's secret key and the key
//! id, so every instance holding the same secret signs alike and the
//! database holds only key ids and public keys. Rotation makes a new key id;
//! the previous key stays published in the JWKS until what it signed has
//! expired.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

/// What a key's seed is derived under, so that no other use of the secret
/// key can produce it.
const DERIVATION_LABEL: &[u8] = b"gardien oidc signing key v1\0";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot encode the signing key: {0}")]
    Encode(String),
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// A signing key, private half included.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// The key of id `kid` under the deployment secret `secret`.
    pub fn derive(secret: &[u8; 32], kid: &str) -> Result<Self, KeyError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(DERIVATION_LABEL);
        mac.update(kid.as_bytes());
        let seed: [u8; 32] = mac.finalize().into_bytes().into();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let der = key
            .to_pkcs8_der()
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            public: PublicKey {
                kid: kid.to_owned(),
                bytes: key.verifying_key().to_bytes(),
            },
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// A compact JWS of `claims`, with header `typ` (`JWT` for ID tokens,
    /// `at+jwt` for access tokens, RFC 9068).
    pub fn sign<T: Serialize>(&self, claims: &T, typ: &str) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// A key's public half, as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: String,
    pub bytes: [u8; 32],
}

impl PublicKey {
    /// The key as a JSON Web Key (RFC 8037 §2).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "use": "sig",
            "alg": "EdDSA",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.bytes),
        })
    }

    /// The `x` of the JWK: how the public key is stored.
    pub fn encoded(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }

    pub fn from_encoded(kid: &str, x: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(x).ok()?.try_into().ok()?;
        Some(Self {
            kid: kid.to_owned(),
            bytes,
        })
    }
}

/// A JWKS document of `keys`.
pub fn jwks<'a>(keys: impl IntoIterator<Item = &'a PublicKey>) -> serde_json::Value {
    serde_json::json!({ "keys": keys.into_iter().map(PublicKey::jwk).collect::<Vec<_>>() })
}

/// Why a token Gardien is shown does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or not signed by this provider")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// What a token must be to be accepted.
pub struct Expect<'a> {
    pub issuer: &'a str,
    /// The `typ` header it must carry.
    pub typ: &'a str,
    /// Accept it after its expiry (an `id_token_hint` at logout may be old).
    pub allow_expired: bool,
}

/// The claims of `token` if one of `keys` signed it and it meets `expect`.
pub fn verify<T: DeserializeOwned>(
    token: &str,
    keys: &[PublicKey],
    expect: &Expect<'_>,
) -> Result<T, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
    if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(expect.typ) {
        return Err(TokenError::Invalid);
    }
    let key = keys
        .iter()
        .find(|k| Some(k.kid.as_str()) == header.kid.as_deref())
        .ok_or(TokenError::Invalid)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[expect.issuer]);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.validate_exp = !expect.allow_expired;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let decoding = DecodingKey::from_ed_der(&key.bytes);
    match jsonwebtoken::decode::<T>(token, &decoding, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
            Err(TokenError::Expired)
        }
        Err(_) => Err(TokenError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Claims {
        iss: String,
        sub: String,
        exp: i64,
    }

    fn claims(exp_from_now: i64) -> Claims {
        Claims {
            iss: "https://id.example".into(),
            sub: "s".into(),
            exp: time::OffsetDateTime::now_utc().unix_timestamp() + exp_from_now,
        }
    }

    const EXPECT: Expect<'static> = Expect {
        issuer: "https://id.example",
        typ: "JWT",
        allow_expired: false,
    };

    #[test]
    fn a_key_is_the_same_for_the_same_secret_and_id_only() {
        let a = SigningKey::derive(&[7; 32], "k1").unwrap();
        assert_eq!(
            a.public_key(),
            SigningKey::derive(&[7; 32], "k1").unwrap().public_key()
        );
        assert_ne!(
            a.public_key().bytes,
            SigningKey::derive(&[7; 32], "k2")
                .unwrap()
                .public_key()
                .bytes
        );
        assert_ne!(
            a.public_key().bytes,
            SigningKey::derive(&[8; 32], "k1")
                .unwrap()
                .public_key()
                .bytes
        );
    }

    #[test]
    fn a_signed_token_verifies_with_its_key_and_no_other() {
        let key = SigningKey::derive(&[1; 32], "k1").unwrap();
        let token = key.sign(&claims(60), "JWT").unwrap();
        let read: Claims = verify(&token, &[key.public_key().clone()], &EXPECT).unwrap();
        assert_eq!(read.sub, "s");

        let other = SigningKey::derive(&[2; 32], "k1").unwrap();
        assert_eq!(
            verify::<Claims>(&token, &[other.public_key().clone()], &EXPECT),
            Err(TokenError::Invalid)
        );
        let wrong_typ = Expect {
            typ: "at+jwt",
            ..EXPECT
        };
        assert!(verify::<Claims>(&token, &[key.public_key().clone()], &wrong_typ).is_err());
        let wrong_issuer = Expect {
            issuer: "https://other.example",
            ..EXPECT
        };
        assert!(verify::<Claims>(&token, &[key.public_key().clone()], &wrong_issuer).is_err());
    }

    #[test]
    fn an_expired_token_is_refused_unless_allowed() {
        let key = SigningKey::derive(&[1; 32], "k1").unwrap();
        let token = key.sign(&claims(-10), "JWT").unwrap();
        let keys = [key.public_key().clone()];
        assert_eq!(
            verify::<Claims>(&token, &keys, &EXPECT),
            Err(TokenError::Expired)
        );
        let hint = Expect {
            allow_expired: true,
            ..EXPECT
        };
        assert!(verify::<Claims>(&token, &keys, &hint).is_ok());
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let key = SigningKey::derive(&[1; 32], "k1").unwrap();
        let token = key.sign(&claims(60), "JWT").unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = Claims {
            sub: "admin".into(),
            ..claims(60)
        };
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            verify::<Claims>(&parts.join("."), &[key.public_key().clone()], &EXPECT),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn the_jwk_round_trips() {
        let key = SigningKey::derive(&[3; 32], "k9").unwrap();
        let jwk = key.public_key().jwk();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["kid"], "k9");
        let back = PublicKey::from_encoded("k9", jwk["x"].as_str().unwrap()).unwrap();
        assert_eq!(&back, key.public_key());
    }
}
