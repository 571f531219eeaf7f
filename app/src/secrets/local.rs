//! The local backend: one JSON keyring file, readable by its owner only.
//!
//! The file holds the JWT signing keys by kid, the data-encryption keys by version (AES-256-GCM)
//! and the named secrets. It is the source of truth for one process: the whole keyring is loaded
//! at start, every change is written to a temporary file (mode 0600) that then replaces the keyring
//! by `rename`, so a crash leaves the old or the new file, never half of one.
//!
//! Ciphertexts read `local:v<version>:<base64(nonce || ciphertext || tag)>`, with a random 96-bit
//! nonce per call and the key version bound as associated data.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use anyhow::anyhow;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use zeroize::{Zeroize, Zeroizing};

use super::{JwtKeys, KEY_BYTES, SecretStore, check_secret_name, json_error_kind, new_kid, random_bytes};
use crate::config::{ConfigError, Secret};
use crate::error::{Error, Result};

/// Prefix of the ciphertexts this backend writes.
const PREFIX: &str = "local";
/// AES-GCM nonce length (96 bits, the size GCM is defined for).
const NONCE_BYTES: usize = 12;
/// AES-GCM tag length.
const TAG_BYTES: usize = 16;
/// Version of the file layout.
const FORMAT: u32 = 1;

/// What the keyring file holds. Every key is base64 of [`KEY_BYTES`] random bytes.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Keyring {
    format: u32,
    jwt: JwtSection,
    data_keys: DataKeys,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtSection {
    current: String,
    keys: BTreeMap<String, String>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataKeys {
    current: u32,
    keys: BTreeMap<u32, String>,
}

impl Drop for Keyring {
    fn drop(&mut self) {
        self.jwt.keys.values_mut().for_each(Zeroize::zeroize);
        self.data_keys.keys.values_mut().for_each(Zeroize::zeroize);
        self.secrets.values_mut().for_each(Zeroize::zeroize);
    }
}

impl Keyring {
    /// A new keyring: one signing key, one data key, no named secret.
    fn generate() -> Result<Self> {
        let kid = new_kid()?;
        let mut jwt_keys = BTreeMap::new();
        jwt_keys.insert(kid.clone(), random_key_b64()?);
        let mut data_keys = BTreeMap::new();
        data_keys.insert(1, random_key_b64()?);
        Ok(Self {
            format: FORMAT,
            jwt: JwtSection {
                current: kid,
                keys: jwt_keys,
            },
            data_keys: DataKeys {
                current: 1,
                keys: data_keys,
            },
            secrets: BTreeMap::new(),
        })
    }

    /// Checks what serde cannot: versions, references, key lengths. Never names a key's value.
    fn validate(&self) -> std::result::Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("unsupported format {} (expected {FORMAT})", self.format));
        }
        if !self.jwt.keys.contains_key(&self.jwt.current) {
            return Err(format!(
                "jwt.current `{}` is not among jwt.keys",
                self.jwt.current
            ));
        }
        if !self.data_keys.keys.contains_key(&self.data_keys.current) {
            return Err(format!(
                "data_keys.current {} is not among data_keys.keys",
                self.data_keys.current
            ));
        }
        let jwt = self.jwt.keys.iter().map(|(k, v)| (format!("jwt key `{k}`"), v));
        let data = self
            .data_keys
            .keys
            .iter()
            .map(|(k, v)| (format!("data key v{k}"), v));
        for (what, value) in jwt.chain(data) {
            match B64.decode(value) {
                Ok(bytes) if bytes.len() == KEY_BYTES => Zeroizing::new(bytes).zeroize(),
                _ => return Err(format!("{what} is not base64 of {KEY_BYTES} bytes")),
            }
        }
        Ok(())
    }

    fn data_key(&self, version: u32) -> Option<Result<Zeroizing<Vec<u8>>>> {
        self.data_keys.keys.get(&version).map(|b64| {
            B64.decode(b64)
                .map(Zeroizing::new)
                .map_err(|_| Error::Internal(anyhow!("keyring data key v{version} is not base64")))
        })
    }
}

/// The keyring file backend (`secrets.backend = "local"`).
pub struct LocalKeyring {
    path: PathBuf,
    // A tokio mutex: it is held across the (blocking-pool) write of the file.
    state: Mutex<Keyring>,
}

impl std::fmt::Debug for LocalKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalKeyring {
    /// Opens the keyring at `path`, creating it (and its directory, mode 0700) when missing.
    ///
    /// Refuses a keyring that its group or others may access, or that is not a keyring.
    pub async fn open(path: &Path) -> Result<Self> {
        let path = path.to_path_buf();
        let keyring = tokio::task::spawn_blocking({
            let path = path.clone();
            move || load_or_create(&path)
        })
        .await
        .map_err(|e| Error::Internal(anyhow!("keyring loader panicked: {e}")))??;
        Ok(Self {
            path,
            state: Mutex::new(keyring),
        })
    }

    /// The keyring file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds a new data-encryption key and makes it current; returns its version. Ciphertexts made
    /// with older versions keep decrypting.
    pub async fn rotate_data_key(&self) -> Result<u32> {
        self.update(|k| {
            let version = k.data_keys.keys.keys().max().copied().unwrap_or(0) + 1;
            k.data_keys.keys.insert(version, random_key_b64()?);
            k.data_keys.current = version;
            Ok(version)
        })
        .await
    }

    /// Applies `change` to a copy of the keyring, writes the copy, and only then makes it current:
    /// a failed write changes nothing, in memory or on disk.
    async fn update<T>(&self, change: impl FnOnce(&mut Keyring) -> Result<T>) -> Result<T> {
        let mut state = self.state.lock().await;
        let mut next = state.clone();
        let out = change(&mut next)?;
        let bytes = serialize(&next)?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| Error::Internal(anyhow!("keyring writer panicked: {e}")))??;
        *state = next;
        Ok(out)
    }
}

#[async_trait]
impl SecretStore for LocalKeyring {
    fn backend(&self) -> &'static str {
        "local"
    }

    async fn jwt_keys(&self) -> Result<JwtKeys> {
        let state = self.state.lock().await;
        Ok(JwtKeys {
            current: state.jwt.current.clone(),
            keys: state
                .jwt
                .keys
                .iter()
                .map(|(kid, key)| (kid.clone(), Secret::new(key.clone())))
                .collect(),
        })
    }

    async fn rotate_jwt_key(&self) -> Result<String> {
        self.update(|k| {
            let mut kid = new_kid()?;
            while k.jwt.keys.contains_key(&kid) {
                kid = new_kid()?;
            }
            k.jwt.keys.insert(kid.clone(), random_key_b64()?);
            k.jwt.current.clone_from(&kid);
            Ok(kid)
        })
        .await
    }

    async fn encrypt(&self, plaintext: &[u8]) -> Result<String> {
        let (version, key) = {
            let state = self.state.lock().await;
            let version = state.data_keys.current;
            let key = state
                .data_key(version)
                .ok_or_else(|| Error::Internal(anyhow!("keyring has no data key v{version}")))??;
            (version, key)
        };
        let cipher = cipher(&key)?;
        let nonce_bytes: [u8; NONCE_BYTES] = random_bytes()?;
        let nonce = aes_gcm::Nonce::try_from(&nonce_bytes[..])
            .map_err(|_| Error::Internal(anyhow!("AES-GCM nonce has the wrong length")))?;
        let aad = aad(version);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal(anyhow!("AES-GCM encryption failed")))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}:v{version}:{}", B64.encode(out)))
    }

    async fn decrypt(&self, ciphertext: &str) -> Result<Vec<u8>> {
        let (version, body) = parse_ciphertext(ciphertext)?;
        let raw = B64
            .decode(body)
            .map_err(|_| Error::Internal(anyhow!("local ciphertext is not valid base64")))?;
        if raw.len() < NONCE_BYTES + TAG_BYTES {
            return Err(Error::Internal(anyhow!("local ciphertext is too short")));
        }
        let key = {
            let state = self.state.lock().await;
            state.data_key(version).ok_or_else(|| {
                Error::Internal(anyhow!(
                    "ciphertext was made with data key v{version}, which this keyring does not hold"
                ))
            })??
        };
        let (nonce_bytes, sealed) = raw.split_at(NONCE_BYTES);
        let nonce = aes_gcm::Nonce::try_from(nonce_bytes)
            .map_err(|_| Error::Internal(anyhow!("AES-GCM nonce has the wrong length")))?;
        let aad = aad(version);
        cipher(&key)?
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| {
                Error::Internal(anyhow!(
                    "local ciphertext failed authentication: it was altered, or made by another keyring"
                ))
            })
    }

    async fn get_secret(&self, name: &str) -> Result<Option<Secret>> {
        check_secret_name(name)?;
        let state = self.state.lock().await;
        Ok(state.secrets.get(name).map(|v| Secret::new(v.clone())))
    }

    async fn put_secret(&self, name: &str, value: &Secret) -> Result<()> {
        check_secret_name(name)?;
        self.update(|k| {
            if let Some(mut old) = k.secrets.insert(name.to_owned(), value.expose().to_owned()) {
                old.zeroize();
            }
            Ok(())
        })
        .await
    }

    async fn health(&self) -> Result<()> {
        let path = self.path.clone();
        let meta = tokio::fs::metadata(&path).await.map_err(|e| {
            Error::Unavailable(format!(
                "keyring {}: {e}; check secrets.keyring_path and the volume it lives on",
                path.display()
            ))
        })?;
        check_mode(&path, meta.permissions().mode()).map_err(Error::Config)
    }
}

fn random_key_b64() -> Result<String> {
    let key = Zeroizing::new(random_bytes::<KEY_BYTES>()?);
    Ok(B64.encode(key.as_slice()))
}

fn cipher(key: &[u8]) -> Result<Aes256Gcm> {
    Aes256Gcm::new_from_slice(key)
        .map_err(|_| Error::Internal(anyhow!("keyring data key has the wrong length")))
}

/// Associated data: binds a ciphertext to its key version (and to this backend).
fn aad(version: u32) -> String {
    format!("uyoop-cal:{PREFIX}:v{version}")
}

/// `local:v3:BODY` -> (3, BODY).
fn parse_ciphertext(text: &str) -> Result<(u32, &str)> {
    let invalid = || Error::Internal(anyhow!("not a local ciphertext (expected local:v<N>:<base64>)"));
    let rest = text
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_prefix(":v"))
        .ok_or_else(invalid)?;
    let (version, body) = rest.split_once(':').ok_or_else(invalid)?;
    let version = version.parse::<u32>().map_err(|_| invalid())?;
    Ok((version, body))
}

/// The keyring may be read or written by its owner only.
fn check_mode(path: &Path, mode: u32) -> std::result::Result<(), ConfigError> {
    if mode & 0o077 != 0 {
        return Err(ConfigError::new(format!(
            "secrets.keyring_path: {} has mode {:04o}, so other users may read the keys; it must be \
             readable by its owner only: `chmod 600 {}` (and rotate the keys if others could read them)",
            path.display(),
            mode & 0o7777,
            path.display()
        )));
    }
    Ok(())
}

fn serialize(keyring: &Keyring) -> Result<Zeroizing<Vec<u8>>> {
    serde_json::to_vec_pretty(keyring)
        .map(Zeroizing::new)
        .map_err(|e| Error::Internal(anyhow!("cannot serialize the keyring: {}", json_error_kind(&e))))
}

fn load_or_create(path: &Path) -> Result<Keyring> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            if !meta.is_file() {
                return Err(ConfigError::new(format!(
                    "secrets.keyring_path: {} is not a regular file",
                    path.display()
                ))
                .into());
            }
            check_mode(path, meta.permissions().mode())?;
            load(path)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(e) => Err(Error::Unavailable(format!(
            "keyring {}: {e}; check secrets.keyring_path and its permissions",
            path.display()
        ))),
    }
}

fn load(path: &Path) -> Result<Keyring> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        Error::Unavailable(format!(
            "cannot read the keyring {}: {e}; check its owner and permissions",
            path.display()
        ))
    })?);
    let keyring: Keyring = serde_json::from_slice(&bytes).map_err(|e| {
        ConfigError::new(format!(
            "secrets.keyring_path: {} is not a uYoop-Cal keyring ({} at line {}, column {})",
            path.display(),
            json_error_kind(&e),
            e.line(),
            e.column()
        ))
    })?;
    keyring.validate().map_err(|why| {
        ConfigError::new(format!(
            "secrets.keyring_path: {} is not a valid keyring: {why}",
            path.display()
        ))
    })?;
    Ok(keyring)
}

/// Creates a fresh keyring at `path` without ever replacing one: when another process created it
/// first, that one is loaded instead.
fn create(path: &Path) -> Result<Keyring> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                Error::Unavailable(format!(
                    "cannot create the keyring directory {}: {e}; check secrets.keyring_path",
                    dir.display()
                ))
            })?;
    }
    let keyring = Keyring::generate()?;
    let bytes = serialize(&keyring)?;
    let tmp = write_temp(path, &bytes)?;
    // A hard link fails when the target exists, so two processes starting together cannot
    // overwrite each other's keys; the loser loads the winner's keyring.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(path);
            tracing::info!(path = %path.display(), "created a new keyring");
            Ok(keyring)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
        Err(e) => Err(Error::Unavailable(format!(
            "cannot create the keyring {}: {e}; check secrets.keyring_path and free space",
            path.display()
        ))),
    }
}

/// Replaces the keyring at `path` with `bytes`, atomically.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = write_temp(path, bytes)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Unavailable(format!(
            "cannot replace the keyring {}: {e}; check free space and permissions",
            path.display()
        )));
    }
    sync_dir(path);
    Ok(())
}

/// Writes `bytes` to a new file beside `path`, created with mode 0600 and flushed to disk.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| ConfigError::new("secrets.keyring_path: must name a file"))?
        .to_string_lossy();
    let suffix: [u8; 6] = random_bytes()?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = path.with_file_name(format!(".{name}.tmp-{suffix}"));
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Unavailable(format!(
            "cannot write the keyring beside {}: {e}; check free space and permissions",
            path.display()
        )));
    }
    Ok(tmp)
}

/// Makes a rename durable. Best effort: some filesystems cannot sync a directory.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all())
    {
        tracing::debug!(dir = %dir.display(), error = %e, "cannot sync the keyring directory");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("nested/dir/keyring.json")
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn creates_the_file_0600_in_a_new_0700_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        let ring = LocalKeyring::open(&path).await.unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        ring.health().await.unwrap();
        // Writes keep the mode and leave no temporary file behind.
        ring.rotate_jwt_key().await.unwrap();
        ring.put_secret("webhook/1", &Secret::new("whsec_x"))
            .await
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["keyring.json".to_owned()]);
    }

    #[tokio::test]
    async fn encrypt_decrypt_roundtrip_with_a_fresh_nonce_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let ring = LocalKeyring::open(&keyring_path(&dir)).await.unwrap();
        let a = ring.encrypt(b"JBSWY3DPEHPK3PXP").await.unwrap();
        let b = ring.encrypt(b"JBSWY3DPEHPK3PXP").await.unwrap();
        assert!(a.starts_with("local:v1:"), "{a}");
        assert_ne!(a, b);
        assert_eq!(ring.decrypt(&a).await.unwrap(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(ring.decrypt(&b).await.unwrap(), b"JBSWY3DPEHPK3PXP");
        let empty = ring.encrypt(b"").await.unwrap();
        assert_eq!(ring.decrypt(&empty).await.unwrap(), b"");
    }

    #[tokio::test]
    async fn tampering_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let ring = LocalKeyring::open(&keyring_path(&dir)).await.unwrap();
        let ct = ring.encrypt(b"seed").await.unwrap();
        let (_, body) = parse_ciphertext(&ct).unwrap();
        let raw = B64.decode(body).unwrap();
        for i in 0..raw.len() {
            let mut flipped = raw.clone();
            flipped[i] ^= 0x01;
            let forged = format!("local:v1:{}", B64.encode(&flipped));
            assert!(
                ring.decrypt(&forged).await.is_err(),
                "byte {i} flipped went unnoticed"
            );
        }
        // Another key version label (AAD), truncation, garbage and another keyring all fail.
        ring.rotate_data_key().await.unwrap();
        assert!(
            ring.decrypt(&ct.replacen("local:v1:", "local:v2:", 1))
                .await
                .is_err()
        );
        assert!(ring.decrypt(&ct[..ct.len() - 4]).await.is_err());
        assert!(ring.decrypt("local:v1:AAAA").await.is_err());
        assert!(ring.decrypt("vault:v1:abc").await.is_err());
        assert!(ring.decrypt("local:vx:abc").await.is_err());
        let other_dir = tempfile::tempdir().unwrap();
        let other = LocalKeyring::open(&keyring_path(&other_dir)).await.unwrap();
        let err = other.decrypt(&ct).await.unwrap_err();
        assert!(err.to_string().contains("failed authentication"), "{err}");
    }

    #[tokio::test]
    async fn jwt_rotation_keeps_old_keys_and_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        let ring = LocalKeyring::open(&path).await.unwrap();
        let first = ring.jwt_keys().await.unwrap();
        assert_eq!(first.keys.len(), 1);
        let first_key = first.keys[&first.current].expose().to_owned();
        assert_eq!(B64.decode(&first_key).unwrap().len(), 32);
        // Stable across calls and across a reload from disk.
        assert_eq!(ring.jwt_keys().await.unwrap().current, first.current);
        let kid = ring.rotate_jwt_key().await.unwrap();
        assert_ne!(kid, first.current);
        let after = ring.jwt_keys().await.unwrap();
        assert_eq!(after.current, kid);
        assert_eq!(after.keys.len(), 2);
        assert_eq!(after.keys[&first.current].expose(), first_key);
        assert_ne!(after.keys[&kid].expose(), first_key);
        drop(ring);
        let reloaded = LocalKeyring::open(&path).await.unwrap();
        let again = reloaded.jwt_keys().await.unwrap();
        assert_eq!(again.current, kid);
        assert_eq!(again.keys[&first.current].expose(), first_key);
        assert_eq!(again.keys[&kid].expose(), after.keys[&kid].expose());
    }

    #[tokio::test]
    async fn data_key_rotation_keeps_old_ciphertexts_readable_after_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        let ring = LocalKeyring::open(&path).await.unwrap();
        let old = ring.encrypt(b"old").await.unwrap();
        assert_eq!(ring.rotate_data_key().await.unwrap(), 2);
        let new = ring.encrypt(b"new").await.unwrap();
        assert!(new.starts_with("local:v2:"), "{new}");
        drop(ring);
        let ring = LocalKeyring::open(&path).await.unwrap();
        assert_eq!(ring.decrypt(&old).await.unwrap(), b"old");
        assert_eq!(ring.decrypt(&new).await.unwrap(), b"new");
    }

    #[tokio::test]
    async fn named_secrets_roundtrip_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        let ring = LocalKeyring::open(&path).await.unwrap();
        assert!(ring.get_secret("webhook/12").await.unwrap().is_none());
        ring.put_secret("webhook/12", &Secret::new("whsec_one"))
            .await
            .unwrap();
        ring.put_secret("webhook/12", &Secret::new("whsec_two"))
            .await
            .unwrap();
        drop(ring);
        let ring = LocalKeyring::open(&path).await.unwrap();
        assert_eq!(
            ring.get_secret("webhook/12").await.unwrap().unwrap().expose(),
            "whsec_two"
        );
        for bad in ["", "/x", "x/", "a//b", "../x", "a/../b", "a b", "a\0b"] {
            assert!(ring.get_secret(bad).await.is_err(), "{bad:?} accepted");
            assert!(
                ring.put_secret(bad, &Secret::new("v")).await.is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[tokio::test]
    async fn refuses_a_keyring_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        drop(LocalKeyring::open(&path).await.unwrap());
        for loose in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(loose)).unwrap();
            let err = LocalKeyring::open(&path).await.unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::Config(_)), "{err:?}");
            assert!(
                msg.contains("chmod 600") && msg.contains(&format!("{loose:04o}")),
                "{msg}"
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let ring = LocalKeyring::open(&path).await.unwrap();
        // health() notices a mode changed while running.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(ring.health().await.is_err());
    }

    #[tokio::test]
    async fn refuses_a_file_that_is_not_a_keyring_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let write = |text: &str| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        };
        write("SENTINEL-not-json");
        let err = LocalKeyring::open(&path).await.unwrap_err().to_string();
        assert!(
            err.contains("not a uYoop-Cal keyring") && !err.contains("SENTINEL"),
            "{err}"
        );
        write(
            r#"{"format":1,"jwt":{"current":"k","keys":{"k":"U0VOVElORUw="}},"data_keys":{"current":1,"keys":{"1":"U0VOVElORUw="}}}"#,
        );
        let err = LocalKeyring::open(&path).await.unwrap_err().to_string();
        assert!(
            err.contains("not base64 of 32 bytes") && !err.contains("U0VOVElORUw"),
            "{err}"
        );
        write(r#"{"format":1,"jwt":{"current":"k","keys":{"k":7}},"data_keys":{"current":1,"keys":{}}}"#);
        let err = LocalKeyring::open(&path).await.unwrap_err().to_string();
        assert!(err.contains("unexpected or missing field"), "{err}");
    }

    #[tokio::test]
    async fn concurrent_writers_in_one_process_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        let ring = std::sync::Arc::new(LocalKeyring::open(&path).await.unwrap());
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let ring = ring.clone();
                tokio::spawn(async move {
                    ring.put_secret(&format!("webhook/{i}"), &Secret::new(format!("v{i}")))
                        .await
                        .unwrap();
                    ring.rotate_jwt_key().await.unwrap()
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        drop(ring);
        let ring = LocalKeyring::open(&path).await.unwrap();
        assert_eq!(ring.jwt_keys().await.unwrap().keys.len(), 17);
        for i in 0..16 {
            let v = ring.get_secret(&format!("webhook/{i}")).await.unwrap().unwrap();
            assert_eq!(v.expose(), format!("v{i}"));
        }
    }

    #[tokio::test]
    async fn two_processes_creating_at_once_agree_on_one_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        let (a, b) = tokio::join!(LocalKeyring::open(&path), LocalKeyring::open(&path));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            a.jwt_keys().await.unwrap().current,
            b.jwt_keys().await.unwrap().current
        );
        let ct = a.encrypt(b"x").await.unwrap();
        assert_eq!(b.decrypt(&ct).await.unwrap(), b"x");
    }

    #[tokio::test]
    async fn key_material_never_in_debug_or_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = keyring_path(&dir);
        let ring = LocalKeyring::open(&path).await.unwrap();
        ring.put_secret("sentinel", &Secret::new("SENTINEL-whsec-9f8e7d"))
            .await
            .unwrap();
        let keys = ring.jwt_keys().await.unwrap();
        let file = std::fs::read_to_string(&path).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&file).unwrap();
        let mut material: Vec<String> = vec!["SENTINEL-whsec-9f8e7d".to_owned()];
        material.extend(keys.keys.values().map(|k| k.expose().to_owned()));
        material.push(parsed["data_keys"]["keys"]["1"].as_str().unwrap().to_owned());
        let mut shown = vec![format!("{ring:?}"), format!("{keys:?}")];
        shown.push(format!("{:?}", ring.get_secret("sentinel").await.unwrap()));
        for bad in [
            "local:v1:!!",
            "local:v9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "x",
        ] {
            let err = ring.decrypt(bad).await.unwrap_err();
            shown.push(format!("{err} {err:?}"));
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalKeyring::open(&path).await.unwrap_err();
        shown.push(format!("{err} {err:?}"));
        for out in &shown {
            for secret in &material {
                assert!(!out.contains(secret.as_str()), "key material in {out}");
            }
        }
    }
}
