//! Access tokens (JWT, RFC 8725 rules), MFA tickets, and opaque refresh tokens.
//!
//! Access tokens are HS256 JWTs signed with a key from the secrets seam, named by `kid`. The verifier
//! accepts one algorithm, known kids only, no `jku`/`x5u`/`jwk`/`x5c` header (no outbound fetch), the
//! exact `typ`, issuer and audience, and at most 60 s of clock skew.

use std::collections::HashMap;
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{Id, User};
use crate::secrets::JwtKeys;

/// `typ` header of access tokens (RFC 9068).
const ACCESS_TYP: &str = "at+jwt";
/// `typ` header of MFA tickets: a ticket is never an access token.
const MFA_TYP: &str = "mfa+jwt";
/// How long an MFA ticket lets the second step wait.
pub const MFA_TICKET_SECS: i64 = 300;
/// Allowed clock skew.
const LEEWAY_SECS: u64 = 60;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// User id.
    pub sub: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Token id.
    pub jti: String,
    /// Session family: logging out revokes it, and with it this token.
    pub sid: uuid::Uuid,
    /// The user's session epoch at issue: bumped to end every session at once.
    pub sep: i64,
}

/// Claims of an MFA ticket (between the password and the TOTP step).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TicketClaims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
}

struct Keyset {
    current: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
}

/// Issues and verifies tokens with the current key set (refreshed from the secrets seam).
pub struct TokenService {
    keys: RwLock<Keyset>,
    issuer: String,
    access_ttl_secs: i64,
    /// Unix time of the last reload asked for by an unknown `kid`.
    last_reload: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn keyset(keys: &JwtKeys) -> Result<Keyset> {
    let current = keys.keys.get(&keys.current).ok_or_else(|| {
        Error::Internal(anyhow::anyhow!(
            "the current signing key is missing from the key set"
        ))
    })?;
    Ok(Keyset {
        current: keys.current.clone(),
        encoding: EncodingKey::from_secret(current.expose().as_bytes()),
        decoding: keys
            .keys
            .iter()
            .map(|(kid, k)| (kid.clone(), DecodingKey::from_secret(k.expose().as_bytes())))
            .collect(),
    })
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 64
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn unauthorized(detail: &str) -> Error {
    Error::Unauthorized(detail.to_owned())
}

impl TokenService {
    /// A service over `keys`.
    pub fn new(keys: &JwtKeys, issuer: &str, access_ttl_secs: u64) -> Result<Self> {
        Ok(Self {
            keys: RwLock::new(keyset(keys)?),
            issuer: issuer.to_owned(),
            access_ttl_secs: i64::try_from(access_ttl_secs.min(1800)).unwrap_or(1800),
            last_reload: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// Replaces the key set (after a rotation, possibly on another replica).
    pub fn update_keys(&self, keys: &JwtKeys) -> Result<()> {
        let next = keyset(keys)?;
        if let Ok(mut guard) = self.keys.write() {
            *guard = next;
        }
        Ok(())
    }

    /// Whether `token` names a well-formed key id this service does not know (yet).
    pub fn kid_unknown(&self, token: &str) -> bool {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return false;
        };
        let Some(kid) = header.kid.filter(|k| valid_kid(k)) else {
            return false;
        };
        self.keys
            .read()
            .map(|k| !k.decoding.contains_key(&kid))
            .unwrap_or(false)
    }

    /// True at most once every 5 seconds: unknown key ids cannot make us hammer the secrets backend.
    pub fn may_reload(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = Utc::now().timestamp();
        let last = self.last_reload.load(Ordering::Relaxed);
        now - last >= 5
            && self
                .last_reload
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Lifetime of access tokens, seconds.
    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String> {
        let guard = self
            .keys
            .read()
            .map_err(|_| Error::Internal(anyhow::anyhow!("key set lock poisoned")))?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(guard.current.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &guard.encoding)
            .map_err(|e| Error::Internal(anyhow::anyhow!("cannot sign a token: {e}")))
    }

    fn check<T: serde::de::DeserializeOwned>(&self, token: &str, typ: &str, aud: &str) -> Result<T> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| unauthorized("malformed token"))?;
        if header.alg != Algorithm::HS256 {
            return Err(unauthorized("unsupported token algorithm"));
        }
        if header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some() || header.x5c.is_some() {
            return Err(unauthorized("token headers that point at keys are not accepted"));
        }
        if header.typ.as_deref() != Some(typ) {
            return Err(unauthorized("wrong token type"));
        }
        let kid = header
            .kid
            .as_deref()
            .filter(|k| valid_kid(k))
            .ok_or_else(|| unauthorized("unknown key id"))?;
        let guard = self
            .keys
            .read()
            .map_err(|_| Error::Internal(anyhow::anyhow!("key set lock poisoned")))?;
        let key = guard
            .decoding
            .get(kid)
            .ok_or_else(|| unauthorized("unknown key id"))?;
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[aud]);
        v.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        v.validate_nbf = true;
        v.leeway = LEEWAY_SECS;
        jsonwebtoken::decode::<T>(token, key, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    unauthorized("the token has expired; refresh it")
                }
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                    unauthorized("the token is not valid yet")
                }
                _ => unauthorized("invalid token"),
            })
    }

    /// Issues an access token for `user` in session `family`. Returns the token and its expiry.
    pub fn issue_access(&self, user: &User, family: uuid::Uuid, now: DateTime<Utc>) -> Result<(String, i64)> {
        let iat = now.timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            sub: user.id.to_string(),
            iat,
            nbf: iat,
            exp: iat + self.access_ttl_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            sid: family,
            sep: user.session_epoch,
        };
        Ok((self.sign(ACCESS_TYP, &claims)?, claims.exp))
    }

    /// Verifies an access token (signature, header rules, claims).
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        let claims: AccessClaims = self.check(token, ACCESS_TYP, &self.issuer)?;
        if claims.exp - claims.iat > 1800 {
            return Err(unauthorized("invalid token lifetime"));
        }
        Ok(claims)
    }

    /// Issues a short-lived ticket proving the password step of `user_id`.
    pub fn issue_mfa_ticket(&self, user_id: Id, now: DateTime<Utc>) -> Result<String> {
        let iat = now.timestamp();
        let claims = TicketClaims {
            iss: self.issuer.clone(),
            aud: format!("{}:mfa", self.issuer),
            sub: user_id.to_string(),
            iat,
            nbf: iat,
            exp: iat + MFA_TICKET_SECS,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        self.sign(MFA_TYP, &claims)
    }

    /// Verifies an MFA ticket and returns the user id.
    pub fn verify_mfa_ticket(&self, ticket: &str) -> Result<Id> {
        let claims: TicketClaims = self.check(ticket, MFA_TYP, &format!("{}:mfa", self.issuer))?;
        claims.sub.parse().map_err(|_| unauthorized("invalid ticket"))
    }
}

/// A new opaque token: 256 random bits, base64url.
pub fn new_opaque_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What is stored for an opaque token: its SHA-256, hex. (The tokens are random, so a fast hash
/// is right: there is nothing to brute-force.)
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::Secret;
    use crate::model::Role;

    fn keys(kid: &str, secret: &str) -> JwtKeys {
        JwtKeys {
            current: kid.into(),
            keys: BTreeMap::from([(kid.to_owned(), Secret::new(secret))]),
        }
    }

    fn user() -> User {
        User {
            id: 7,
            username: "u".into(),
            email: "u@example.com".into(),
            display_name: String::new(),
            role: Role::Dev,
            team_id: None,
            totp_enabled: false,
            disabled: false,
            locked: false,
            locale: "fr".into(),
            timezone: "UTC".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
            password_hash: String::new(),
            session_epoch: 3,
        }
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn roundtrip_and_claims() {
        let svc = TokenService::new(&keys("k1", &"s".repeat(32)), "uyoop-cal", 1800).unwrap();
        let sid = uuid::Uuid::new_v4();
        let (tok, exp) = svc.issue_access(&user(), sid, Utc::now()).unwrap();
        let c = svc.verify_access(&tok).unwrap();
        assert_eq!((c.sub.as_str(), c.sid, c.sep, c.exp), ("7", sid, 3, exp));
        assert!(c.exp - c.iat <= 1800 && !c.jti.is_empty());
    }

    #[test]
    fn refuses_attacks() {
        let svc = TokenService::new(&keys("k1", &"s".repeat(32)), "uyoop-cal", 1800).unwrap();
        let (tok, _) = svc
            .issue_access(&user(), uuid::Uuid::new_v4(), Utc::now())
            .unwrap();
        let parts: Vec<&str> = tok.split('.').collect();
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();

        // alg none, any case, with or without signature.
        for alg in ["none", "None", "NONE", "nOnE"] {
            let h = b64(&serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": "k1"}));
            for sig in ["", parts[2]] {
                assert!(
                    svc.verify_access(&format!("{h}.{}.{sig}", parts[1])).is_err(),
                    "alg {alg}"
                );
            }
        }
        // Every flipped byte of the payload or signature.
        for i in 0..tok.len() {
            let mut bytes = tok.clone().into_bytes();
            if bytes[i] == b'.' {
                continue;
            }
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            if let Ok(t) = String::from_utf8(bytes)
                && t != tok
            {
                assert!(svc.verify_access(&t).is_err(), "flipped byte {i}");
            }
        }
        // Wrong key, unknown kid, path/SQL in kid, key-pointing headers, wrong typ.
        let other = TokenService::new(&keys("k1", &"t".repeat(32)), "uyoop-cal", 1800).unwrap();
        assert!(other.verify_access(&tok).is_err());
        let encode = |header: serde_json::Value, claims: &serde_json::Value, secret: &str| {
            let h: Header = serde_json::from_value(header).unwrap();
            jsonwebtoken::encode(&h, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
        };
        let s = "s".repeat(32);
        for header in [
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": "k2"}),
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": "../../etc/passwd"}),
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1' OR '1'='1"}),
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1", "jku": "https://evil.example/jwks"}),
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1", "x5u": "https://evil.example/c"}),
            serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
            serde_json::json!({"alg": "HS256", "typ": "mfa+jwt", "kid": "k1"}),
            serde_json::json!({"alg": "HS384", "typ": "at+jwt", "kid": "k1"}),
        ] {
            assert!(
                svc.verify_access(&encode(header.clone(), &payload, &s)).is_err(),
                "{header}"
            );
        }
        let good = serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1"});
        assert!(
            svc.verify_access(&encode(good.clone(), &payload, &s)).is_ok(),
            "control"
        );
        // Claims: expired, nbf beyond the skew, wrong iss/aud, lifetime over 30 min, missing claims.
        let now = Utc::now().timestamp();
        let with = |k: &str, v: serde_json::Value| {
            let mut p = payload.clone();
            p[k] = v;
            p
        };
        for bad in [
            with("exp", (now - 120).into()),
            with("nbf", (now + 120).into()),
            with("iss", "someone-else".into()),
            with("aud", "another-app".into()),
            with("exp", (now + 7200).into()),
        ] {
            assert!(
                svc.verify_access(&encode(good.clone(), &bad, &s)).is_err(),
                "{bad}"
            );
        }
        let mut missing = payload.clone();
        missing.as_object_mut().unwrap().remove("exp");
        assert!(svc.verify_access(&encode(good, &missing, &s)).is_err());
        // An MFA ticket is not an access token, and the other way round.
        let ticket = svc.issue_mfa_ticket(7, Utc::now()).unwrap();
        assert!(svc.verify_access(&ticket).is_err());
        assert!(svc.verify_mfa_ticket(&tok).is_err());
        assert_eq!(svc.verify_mfa_ticket(&ticket).unwrap(), 7);
    }

    #[test]
    fn rotation_keeps_old_keys_verifying() {
        let mut k = keys("k1", &"a".repeat(32));
        let svc = TokenService::new(&k, "uyoop-cal", 1800).unwrap();
        let (old, _) = svc
            .issue_access(&user(), uuid::Uuid::new_v4(), Utc::now())
            .unwrap();
        k.keys.insert("k2".into(), Secret::new("b".repeat(32)));
        k.current = "k2".into();
        svc.update_keys(&k).unwrap();
        let (new, _) = svc
            .issue_access(&user(), uuid::Uuid::new_v4(), Utc::now())
            .unwrap();
        assert!(svc.verify_access(&old).is_ok() && svc.verify_access(&new).is_ok());
        assert!(jsonwebtoken::decode_header(&new).unwrap().kid.as_deref() == Some("k2"));
        // Retiring k1 ends its tokens.
        k.keys.remove("k1");
        svc.update_keys(&k).unwrap();
        assert!(svc.verify_access(&old).is_err());
    }

    #[test]
    fn opaque_tokens() {
        let a = new_opaque_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, new_opaque_token());
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
