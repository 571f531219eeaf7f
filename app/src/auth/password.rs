//! Passwords: the policy (NIST SP 800-63B: length, not composition; common and context words
//! refused) and argon2id hashing, run off the async executor.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, FieldError, Result};

/// Shortest accepted password, in code points after NFKC.
pub const MIN_LEN: usize = 12;
/// Longest accepted password (never truncated: longer is refused).
pub const MAX_LEN: usize = 1024;

/// argon2id parameters (OWASP: m=19456 KiB, t=2, p=1 at least).
const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

const COMMON: &str = include_str!("common-passwords.txt");

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(M_COST, T_COST, P_COST, None)
        .map_err(|e| Error::Internal(anyhow::anyhow!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password. `context` holds words the password must not contain (username, e-mail
/// local part); the product name is always one.
pub fn check_policy(password: &str, context: &[&str]) -> std::result::Result<(), FieldError> {
    let normalized: String = password.nfkc().collect();
    let len = normalized.chars().count();
    if len < MIN_LEN {
        return Err(FieldError::new(
            "password",
            "too_short",
            format!("use at least {MIN_LEN} characters; a passphrase of several words is easiest"),
        ));
    }
    if len > MAX_LEN {
        return Err(FieldError::new(
            "password",
            "too_long",
            format!("use at most {MAX_LEN} characters"),
        ));
    }
    let lower = normalized.to_lowercase();
    if COMMON.lines().any(|c| c == lower) {
        return Err(FieldError::new(
            "password",
            "common",
            "this password is in lists of common passwords; choose another",
        ));
    }
    for word in context.iter().copied().chain(["uyoop"]) {
        let word = word.trim().to_lowercase();
        if word.chars().count() >= 4 && lower.contains(&word) {
            return Err(FieldError::new(
                "password",
                "contains_context",
                "the password must not contain your username, your e-mail or the product name",
            ));
        }
    }
    let first = normalized.chars().next().unwrap_or_default();
    if normalized.chars().all(|c| c == first) {
        return Err(FieldError::new(
            "password",
            "repetitive",
            "a single repeated character is too easy to guess",
        ));
    }
    Ok(())
}

/// Hashes with argon2id and a random salt, on the blocking pool.
pub async fn hash(password: &str) -> Result<String> {
    let normalized: String = password.nfkc().collect();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()?
            .hash_password(normalized.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(anyhow::anyhow!("argon2 hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

/// A hash of a random password, verified against when the user does not exist, so that an unknown
/// user costs the same time as a known one.
pub async fn dummy_hash() -> &'static str {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            let random: String = (0..32).map(|_| rand::random::<char>()).collect();
            hash(&random).await.unwrap_or_default()
        })
        .await
}

/// Verifies in constant time, on the blocking pool. A malformed stored hash is `false`.
pub async fn verify(password: &str, stored: &str) -> Result<bool> {
    let normalized: String = password.nfkc().collect();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return Ok(false);
        };
        Ok(argon2()?.verify_password(normalized.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

/// Whether a stored hash uses weaker parameters than today's (rehash on the next login).
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let get = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    get("m") < M_COST || get("t") < T_COST || get("p") < P_COST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check_policy("short", &[]).unwrap_err().code, "too_short");
        // Length counts code points after NFKC, not bytes.
        assert_eq!(check_policy("ééééééééééé", &[]).unwrap_err().code, "too_short");
        assert!(check_policy("horse battery staple ✓", &[]).is_ok());
        assert_eq!(check_policy("Password1234", &[]).unwrap_err().code, "common");
        assert_eq!(
            check_policy("alice-in-wonderland-42", &["alice"])
                .unwrap_err()
                .code,
            "contains_context"
        );
        assert_eq!(
            check_policy("my uYoop calendar pw", &[]).unwrap_err().code,
            "contains_context"
        );
        assert_eq!(
            check_policy(&"x".repeat(MAX_LEN + 1), &[]).unwrap_err().code,
            "too_long"
        );
        assert!(
            check_policy(&"xy".repeat(MAX_LEN / 2), &[]).is_ok(),
            "long passphrases are fine"
        );
        assert_eq!(
            check_policy("zzzzzzzzzzzzzz", &[]).unwrap_err().code,
            "repetitive"
        );
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h).await.unwrap());
        assert!(!verify("correct horse batterx", &h).await.unwrap());
        assert!(!verify("anything", "not-a-hash").await.unwrap());
        assert_ne!(h, hash("correct horse battery").await.unwrap(), "unique salt");
        assert!(!needs_rehash(&h));
        assert!(needs_rehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
        // NFKC: the same password typed with a compatibility character verifies.
        let h = hash("ﬁne tuned passphrase").await.unwrap();
        assert!(verify("fine tuned passphrase", &h).await.unwrap());
    }
}
