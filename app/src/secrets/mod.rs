//! The secrets seam: JWT signing keys, encryption of secrets stored in the database (TOTP seeds),
//! and named secrets (webhook signing secrets).
//!
//! Two implementations, chosen by `secrets.backend`:
//! - `local`: a keyring file (`secrets.keyring_path`, created 0600), the embedded default;
//! - `vault`: Vault / OpenBao through its HTTP API: KV v2 for keys and named secrets, Transit to
//!   encrypt. With Vault configured the app fails closed at start when Vault is unreachable or sealed.
//!
//! Key material never reaches logs or `Debug` output.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::anyhow;
use async_trait::async_trait;

use crate::config::{Secret, SecretsBackend, Settings};
use crate::error::{Error, Result};

mod local;
mod vault;

pub use local::LocalKeyring;
pub use vault::{RetryPolicy, VaultStore};

/// The keys that sign and verify access tokens. One algorithm (HS256) per key; rotation adds a key
/// and makes it current, older keys keep verifying until they are retired.
#[derive(Clone)]
pub struct JwtKeys {
    /// Key id (`kid`) of the key that signs new tokens.
    pub current: String,
    /// Every key that may verify, by key id (the current one included). At least 32 bytes each.
    pub keys: BTreeMap<String, Secret>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("current", &self.current)
            .field("kids", &self.keys.keys())
            .finish()
    }
}

/// Where secrets live.
#[async_trait]
pub trait SecretStore: Send + Sync + std::fmt::Debug + 'static {
    /// `local` or `vault`.
    fn backend(&self) -> &'static str;
    /// The signing keys; created (one random 256-bit key) on first use.
    async fn jwt_keys(&self) -> Result<JwtKeys>;
    /// Adds a new random signing key, makes it current, returns its kid. Old keys keep verifying.
    async fn rotate_jwt_key(&self) -> Result<String>;
    /// Encrypts a small secret for storage in the database. The result is text, self-describing
    /// (it names the key version), and differs on every call (random nonce).
    async fn encrypt(&self, plaintext: &[u8]) -> Result<String>;
    /// Decrypts what [`SecretStore::encrypt`] produced. Tampered input is an error.
    async fn decrypt(&self, ciphertext: &str) -> Result<Vec<u8>>;
    /// A named secret (e.g. `webhook/12`), if set.
    async fn get_secret(&self, name: &str) -> Result<Option<Secret>>;
    /// Sets a named secret.
    async fn put_secret(&self, name: &str, value: &Secret) -> Result<()>;
    /// Fails when the backend cannot serve (unreachable, sealed).
    async fn health(&self) -> Result<()>;
}

/// A shareable secret store.
pub type DynSecrets = Arc<dyn SecretStore>;

/// Builds the configured secret store and checks that it can serve: the app fails closed at start
/// when Vault / OpenBao is unreachable, sealed or refuses our credentials.
pub async fn connect(settings: &Settings) -> Result<DynSecrets> {
    let store: DynSecrets = match settings.secrets.backend {
        SecretsBackend::Local => Arc::new(LocalKeyring::open(&settings.secrets.keyring_path).await?),
        SecretsBackend::Vault => Arc::new(VaultStore::connect(&settings.vault).await?),
    };
    store.health().await?;
    tracing::info!(backend = store.backend(), "secret store ready");
    Ok(store)
}

/// Length of every generated key: 256 bits.
const KEY_BYTES: usize = 32;

/// `N` bytes from the operating system's random generator.
fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| Error::Internal(anyhow!("the OS random generator failed: {e}")))?;
    Ok(buf)
}

/// A new key id: 16 lowercase hex digits (64 random bits), safe in a JWT header and a URL path.
fn new_kid() -> Result<String> {
    let bytes: [u8; 8] = random_bytes()?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Named secrets are paths of `[A-Za-z0-9_.-]` segments (`webhook/12`), never `.` or `..`, so a
/// name can be neither a traversal in Vault's API nor anything but a plain key in the keyring.
fn check_secret_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 200
        && name.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        });
    if valid {
        Ok(())
    } else {
        Err(Error::Internal(anyhow!(
            "invalid secret name {name:?}: use `/`-separated segments of letters, digits, `_`, `.`, `-`"
        )))
    }
}

/// What kind of JSON error `e` is, without quoting the input (which holds keys).
fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected or missing field",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}
