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

use async_trait::async_trait;

use crate::config::Secret;
use crate::error::Result;

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
