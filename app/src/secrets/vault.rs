//! The Vault / OpenBao backend, over its HTTP API with `vaultrs`.
//!
//! - JWT signing keys: one KV v2 secret, `<kv_mount>/<kv_path>/jwt`, written with check-and-set so
//!   that replicas starting together agree on one key set and concurrent rotations lose nothing.
//! - Named secrets: `<kv_mount>/<kv_path>/secrets/<name>`, field `value`.
//! - Encryption: Transit key `<transit_mount>/keys/<transit_key>` (created at start when missing
//!   and the token may); ciphertexts are Vault's own `vault:vN:...`.
//!
//! Auth is a static token (development, tests) or Kubernetes auth (the pod's projected token),
//! logged in again before the token's TTL runs out and whenever Vault answers 403.
//! Every call is retried with exponential backoff on transient failures (connection refused,
//! 5xx, a sealed or standby node) until [`RetryPolicy::deadline`], so a leader change is survived.
//!
//! OpenBao standbys answer reads themselves and may lag the leader by a few milliseconds. Every
//! request carries the `X-Vault-Index` of the last write this process saw, with
//! `X-Vault-Inconsistent: forward-active-node`, so a process always reads its own writes (a key
//! just created or rotated, a secret just stored). Another replica's write becomes visible as soon
//! as the standby has applied it.
//!
//! Vault errors are turned into messages here; `vaultrs` errors are never kept as a cause,
//! because some carry the raw response body, which may hold key material.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderValue;
use rustify::endpoint::{Endpoint, MiddleWare};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;
use vaultrs::api::auth::kubernetes::requests::LoginWithKubernetesRequest;
use vaultrs::api::kv2::requests::{ReadSecretRequest, SetSecretRequest, SetSecretRequestOptions};
use vaultrs::api::sys::requests::ReadHealthRequest;
use vaultrs::api::token::requests::LookupTokenSelfRequest;
use vaultrs::api::transit::requests::{
    CreateKeyRequest, DecryptDataRequest, EncryptDataRequest, ReadKeyRequest,
};
use vaultrs::api::{AuthInfo, EndpointError, EndpointMiddleware, EndpointResult};
use vaultrs::client::{Client, Identity, VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;
use zeroize::{Zeroize, Zeroizing};

use super::{JwtKeys, KEY_BYTES, SecretStore, check_secret_name, json_error_kind, new_kid, random_bytes};
use crate::config::{ConfigError, Secret, VaultSettings};
use crate::error::{Error, Result};

/// Check-and-set rounds before a JWT key write gives up (another writer kept winning).
const CAS_ATTEMPTS: u32 = 12;

/// How long and how often a call to Vault is retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// A call gives up once this much time has passed since its first attempt (the attempt then
    /// running may add up to `request_timeout`). Covers a Raft leader election.
    pub deadline: Duration,
    /// Pause after the first failure; doubled after each one, up to `max_backoff`, with jitter.
    pub initial_backoff: Duration,
    /// Longest pause between two attempts.
    pub max_backoff: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(15),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// How the store proves who it is.
enum Auth {
    /// A fixed token (`vault.token`).
    Token(Secret),
    /// Kubernetes auth: the service-account token at `jwt_path`, role `role`, mount `mount`.
    Kubernetes {
        role: String,
        mount: String,
        jwt_path: PathBuf,
    },
}

/// A logged-in client.
struct Session {
    client: Arc<VaultClient>,
    /// When to log in again (two thirds of the token's TTL); `None` for a token that does not expire.
    renew_at: Option<Instant>,
    /// Bumped at every login, so that tasks that saw the same 403 log in only once.
    generation: u64,
}

impl Session {
    fn is_fresh(&self) -> bool {
        self.renew_at.is_none_or(|at| Instant::now() < at)
    }
}

/// Why a call failed, in words that are safe to log and to show.
#[derive(Debug)]
enum Failure {
    /// Worth retrying: connection refused or reset, timeout, 5xx, sealed or standby node.
    Transient(String),
    /// 403: the token is invalid, expired, or its policy does not grant the path.
    Denied(String),
    /// 404: no such secret, key or mount.
    NotFound,
    /// A KV v2 check-and-set lost against another writer.
    CasMismatch,
    /// `sys/health`: the server is sealed.
    Sealed,
    /// `sys/health`: the server is not initialized.
    Uninitialized,
    /// Anything else: a request Vault refused, or a response we cannot read.
    Other(String),
}

/// The Vault / OpenBao backend (`secrets.backend = "vault"`).
pub struct VaultStore {
    addr: String,
    auth: Auth,
    cacert: Option<String>,
    identity: Option<Identity>,
    kv_mount: String,
    kv_path: String,
    transit_mount: String,
    transit_key: String,
    retry: RetryPolicy,
    session: RwLock<Option<Session>>,
    login_lock: Mutex<()>,
    /// `X-Vault-Index` of the last write answered (see the module documentation).
    index: std::sync::Mutex<Option<HeaderValue>>,
}

/// vaultrs's middleware (API version, token) plus OpenBao's consistency headers.
struct Consistency<'a> {
    inner: &'a EndpointMiddleware,
    index: &'a std::sync::Mutex<Option<HeaderValue>>,
}

impl Consistency<'_> {
    fn last_index(&self) -> Option<HeaderValue> {
        self.index.lock().map_or(None, |i| i.clone())
    }
}

impl MiddleWare for Consistency<'_> {
    fn request<E: Endpoint>(
        &self,
        endpoint: &E,
        req: &mut http::Request<Vec<u8>>,
    ) -> std::result::Result<(), rustify::errors::ClientError> {
        self.inner.request(endpoint, req)?;
        if let Some(index) = self.last_index() {
            let headers = req.headers_mut();
            headers.insert("X-Vault-Index", index);
            headers.insert(
                "X-Vault-Inconsistent",
                HeaderValue::from_static("forward-active-node"),
            );
        }
        Ok(())
    }

    fn response<E: Endpoint>(
        &self,
        endpoint: &E,
        resp: &mut http::Response<Vec<u8>>,
    ) -> std::result::Result<(), rustify::errors::ClientError> {
        if let Some(index) = resp.headers().get("X-Vault-Index")
            && let Ok(mut last) = self.index.lock()
        {
            *last = Some(index.clone());
        }
        self.inner.response(endpoint, resp)
    }
}

impl std::fmt::Debug for VaultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match &self.auth {
            Auth::Token(_) => "token".to_owned(),
            Auth::Kubernetes { role, mount, .. } => format!("kubernetes role {role} at auth/{mount}"),
        };
        f.debug_struct("VaultStore")
            .field("addr", &self.addr)
            .field("auth", &auth)
            .field("cacert", &self.cacert)
            .field("client_cert", &self.identity.is_some())
            .field("kv", &format!("{}/{}", self.kv_mount, self.kv_path))
            .field(
                "transit",
                &format!("{}/keys/{}", self.transit_mount, self.transit_key),
            )
            .finish_non_exhaustive()
    }
}

/// The JWT key set as stored in KV: kid -> base64 of a 256-bit key.
#[derive(Clone, Serialize, Deserialize)]
struct StoredJwtKeys {
    current: String,
    keys: BTreeMap<String, String>,
}

impl Drop for StoredJwtKeys {
    fn drop(&mut self) {
        self.keys.values_mut().for_each(Zeroize::zeroize);
    }
}

impl StoredJwtKeys {
    fn generate() -> Result<Self> {
        let mut keys = Self {
            current: String::new(),
            keys: BTreeMap::new(),
        };
        keys.add_key()?;
        Ok(keys)
    }

    /// Adds a random key under a new kid and makes it current.
    fn add_key(&mut self) -> Result<String> {
        let mut kid = new_kid()?;
        while self.keys.contains_key(&kid) {
            kid = new_kid()?;
        }
        let key = Zeroizing::new(random_bytes::<KEY_BYTES>()?);
        self.keys.insert(kid.clone(), B64.encode(key.as_slice()));
        self.current.clone_from(&kid);
        Ok(kid)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if !self.keys.contains_key(&self.current) {
            return Err(format!("current kid `{}` is not among the keys", self.current));
        }
        for (kid, key) in &self.keys {
            match B64.decode(key) {
                Ok(bytes) if bytes.len() >= KEY_BYTES => Zeroizing::new(bytes).zeroize(),
                _ => return Err(format!("key `{kid}` is not base64 of at least {KEY_BYTES} bytes")),
            }
        }
        Ok(())
    }

    fn to_jwt_keys(&self) -> JwtKeys {
        JwtKeys {
            current: self.current.clone(),
            keys: self
                .keys
                .iter()
                .map(|(kid, key)| (kid.clone(), Secret::new(key.clone())))
                .collect(),
        }
    }
}

/// A named secret as stored in KV.
#[derive(Deserialize)]
struct NamedSecret {
    value: String,
}

impl Drop for NamedSecret {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl VaultStore {
    /// Connects with the default [`RetryPolicy`]: checks health and credentials, and makes sure
    /// the Transit key exists. Fails (closed) when Vault is unreachable, sealed or refuses us.
    pub async fn connect(settings: &VaultSettings) -> Result<Self> {
        Self::connect_with(settings, RetryPolicy::default()).await
    }

    /// [`VaultStore::connect`] with another retry policy.
    pub async fn connect_with(settings: &VaultSettings, retry: RetryPolicy) -> Result<Self> {
        let store = Self::new(settings, retry).await?;
        store.health().await?;
        store.ensure_transit_key().await?;
        Ok(store)
    }

    /// Validates the settings and reads the TLS files; talks to nobody.
    async fn new(settings: &VaultSettings, retry: RetryPolicy) -> Result<Self> {
        match url::Url::parse(&settings.addr) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
            _ => {
                return Err(ConfigError::new(format!(
                    "vault.addr: `{}` is not an http(s) URL; use e.g. https://vault.vault.svc:8200",
                    settings.addr
                ))
                .into());
            }
        }
        let auth = match (&settings.token, &settings.role) {
            (Some(token), _) if !token.expose().is_empty() => Auth::Token(token.clone()),
            (_, Some(role)) if !role.is_empty() => Auth::Kubernetes {
                role: role.clone(),
                mount: settings.auth_path.trim_matches('/').to_owned(),
                jwt_path: settings.jwt_path.clone(),
            },
            _ => {
                return Err(ConfigError::new(
                    "vault.token or vault.role: set a token (development) or a Kubernetes auth role",
                )
                .into());
            }
        };
        let cacert = match &settings.cacert {
            Some(path) => {
                tokio::fs::metadata(path).await.map_err(|e| {
                    ConfigError::new(format!("vault.cacert: cannot read {}: {e}", path.display()))
                })?;
                Some(path.to_string_lossy().into_owned())
            }
            None => None,
        };
        let identity = match (&settings.client_cert, &settings.client_key) {
            (Some(cert), Some(key)) => {
                let read = |path: PathBuf, field: &'static str| async move {
                    tokio::fs::read(&path).await.map(Zeroizing::new).map_err(|e| {
                        ConfigError::new(format!("{field}: cannot read {}: {e}", path.display()))
                    })
                };
                let mut pem = read(cert.clone(), "vault.client_cert").await?;
                pem.push(b'\n');
                pem.extend_from_slice(&read(key.clone(), "vault.client_key").await?);
                Some(Identity::from_pem(&pem).map_err(|_| {
                    ConfigError::new(
                        "vault.client_cert / vault.client_key: not a PEM certificate and private key",
                    )
                })?)
            }
            (None, None) => None,
            _ => {
                return Err(ConfigError::new(
                    "vault.client_cert and vault.client_key: set both for mutual TLS, or neither",
                )
                .into());
            }
        };
        // reqwest is built without a default crypto provider (no aws-lc C build); use ring.
        // Installing fails only when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = Self {
            addr: settings.addr.trim_end_matches('/').to_owned(),
            auth,
            cacert,
            identity,
            kv_mount: settings.kv_mount.trim_matches('/').to_owned(),
            kv_path: settings.kv_path.trim_matches('/').to_owned(),
            transit_mount: settings.transit_mount.trim_matches('/').to_owned(),
            transit_key: settings.transit_key.clone(),
            retry,
            session: RwLock::new(None),
            login_lock: Mutex::new(()),
            index: std::sync::Mutex::new(None),
        };
        if let Auth::Token(token) = &store.auth {
            let client = Arc::new(store.build_client(token.expose())?);
            *store.session.write().await = Some(Session {
                client,
                renew_at: None,
                generation: 0,
            });
        }
        Ok(store)
    }

    fn build_client(&self, token: &str) -> Result<VaultClient> {
        let mut builder = VaultClientSettingsBuilder::default();
        // Every field is set explicitly, so that no VAULT_* variable of the environment applies.
        builder
            .address(&self.addr)
            .token(token)
            .ca_certs(self.cacert.iter().cloned().collect())
            .identity(self.identity.clone())
            .verify(true)
            .timeout(Some(self.retry.request_timeout));
        let settings = builder
            .build()
            .map_err(|e| Error::Internal(anyhow!("invalid Vault client settings: {e}")))?;
        VaultClient::new(settings).map_err(|e| {
            Error::Config(ConfigError::new(format!(
                "vault.cacert / vault.client_cert: cannot set up TLS to {}: {e}",
                self.addr
            )))
        })
    }

    fn credentials_hint(&self) -> String {
        match &self.auth {
            Auth::Token(_) => "vault.token (UYOOP_VAULT__TOKEN) and its policy".to_owned(),
            Auth::Kubernetes { role, mount, .. } => format!(
                "the Kubernetes auth role `{role}` at auth/{mount} (vault.role, vault.auth_path) and its policy"
            ),
        }
    }

    /// Turns a failure of `what` into the crate's error, saying what to check.
    fn error(&self, what: &str, failure: Failure) -> Error {
        let addr = &self.addr;
        match failure {
            Failure::Transient(why) => Error::Unavailable(format!(
                "Vault/OpenBao at {addr} did not complete `{what}` within {:?} (last error: {why}); \
                 check that it is running, unsealed and reachable (vault.addr, vault.cacert)",
                self.retry.deadline
            )),
            Failure::Sealed => Error::Unavailable(format!(
                "Vault/OpenBao at {addr} is sealed; unseal it (`bao operator unseal`)"
            )),
            Failure::Uninitialized => Error::Unavailable(format!(
                "Vault/OpenBao at {addr} is not initialized; run `bao operator init` and unseal it"
            )),
            Failure::Denied(why) => Error::Unavailable(format!(
                "Vault/OpenBao at {addr} refused `{what}` ({why}); check {}",
                self.credentials_hint()
            )),
            Failure::NotFound => Error::Unavailable(format!(
                "Vault/OpenBao at {addr}: `{what}` found no such path; check vault.kv_mount, \
                 vault.transit_mount and that those engines are enabled"
            )),
            Failure::CasMismatch => Error::Internal(anyhow!(
                "Vault `{what}`: another writer kept changing the secret; try again"
            )),
            Failure::Other(why) => Error::Internal(anyhow!("Vault/OpenBao `{what}` failed: {why}")),
        }
    }

    /// The current session, logging in first when there is none or it is due for renewal.
    async fn session(&self) -> Result<(Arc<VaultClient>, u64)> {
        if let Some(s) = self.session.read().await.as_ref()
            && s.is_fresh()
        {
            return Ok((s.client.clone(), s.generation));
        }
        self.relogin(None).await
    }

    /// Logs in again, unless another task already did since `seen` generation was current.
    async fn relogin(&self, seen: Option<u64>) -> Result<(Arc<VaultClient>, u64)> {
        let _one_at_a_time = self.login_lock.lock().await;
        let previous = {
            let guard = self.session.read().await;
            if let Some(s) = guard.as_ref()
                && s.is_fresh()
                && Some(s.generation) != seen
            {
                return Ok((s.client.clone(), s.generation));
            }
            guard.as_ref().map_or(0, |s| s.generation)
        };
        let (client, renew_at) = self.login().await?;
        let client = Arc::new(client);
        let generation = previous + 1;
        *self.session.write().await = Some(Session {
            client: client.clone(),
            renew_at,
            generation,
        });
        Ok((client, generation))
    }

    /// A fresh client with a fresh token.
    async fn login(&self) -> Result<(VaultClient, Option<Instant>)> {
        let (role, mount, jwt_path) = match &self.auth {
            Auth::Token(token) => return Ok((self.build_client(token.expose())?, None)),
            Auth::Kubernetes {
                role,
                mount,
                jwt_path,
            } => (role.as_str(), mount.as_str(), jwt_path),
        };
        let jwt = Zeroizing::new(tokio::fs::read_to_string(jwt_path).await.map_err(|e| {
            Error::Unavailable(format!(
                "cannot read the service-account token {}: {e}; check vault.jwt_path and the \
                 projected token volume",
                jwt_path.display()
            ))
        })?);
        let jwt = jwt.trim();
        let anonymous = Arc::new(self.build_client("")?);
        let started = Instant::now();
        let info = self
            .with_retries(classify, || {
                let anonymous = anonymous.clone();
                async move {
                    let endpoint = LoginWithKubernetesRequest {
                        mount: mount.to_owned(),
                        role: role.to_owned(),
                        jwt: jwt.to_owned(),
                    };
                    self.exec_auth(anonymous.as_ref(), endpoint).await
                }
            })
            .await
            .map_err(|failure| match failure {
                Failure::Transient(_) => self.error("kubernetes login", failure),
                Failure::Denied(why) | Failure::Other(why) => Error::Unavailable(format!(
                    "Kubernetes login to Vault/OpenBao at {} was refused ({why}); check vault.role \
                     `{role}`, vault.auth_path `{mount}` and the service-account token at {}",
                    self.addr,
                    jwt_path.display()
                )),
                other => self.error("kubernetes login", other),
            })?;
        let token = Zeroizing::new(info.client_token);
        let renew_at =
            (info.lease_duration > 0).then(|| started + Duration::from_secs(info.lease_duration) * 2 / 3);
        tracing::info!(
            role,
            ttl_secs = info.lease_duration,
            "logged in to Vault with Kubernetes auth"
        );
        Ok((self.build_client(&token)?, renew_at))
    }

    /// Runs `op` with retries, logging in again once when Vault answers 403 under Kubernetes auth.
    /// The outer error is a failed login; the inner one, how `op` failed.
    async fn call<T, F, Fut>(&self, op: F) -> Result<std::result::Result<T, Failure>>
    where
        F: Fn(Arc<VaultClient>) -> Fut,
        Fut: Future<Output = std::result::Result<T, ClientError>>,
    {
        let (mut client, mut generation) = self.session().await?;
        let mut logged_in_again = false;
        loop {
            match self.with_retries(classify, || op(client.clone())).await {
                Err(Failure::Denied(_))
                    if matches!(self.auth, Auth::Kubernetes { .. }) && !logged_in_again =>
                {
                    logged_in_again = true;
                    (client, generation) = self.relogin(Some(generation)).await?;
                }
                other => return Ok(other),
            }
        }
    }

    /// [`VaultStore::call`] where every failure is an error.
    async fn call_ok<T, F, Fut>(&self, what: &str, op: F) -> Result<T>
    where
        F: Fn(Arc<VaultClient>) -> Fut,
        Fut: Future<Output = std::result::Result<T, ClientError>>,
    {
        self.call(op).await?.map_err(|f| self.error(what, f))
    }

    /// Runs `op` until it succeeds, fails for a reason that retrying cannot fix, or the deadline
    /// passes; pauses with exponential backoff and jitter between attempts.
    async fn with_retries<T, F, Fut>(
        &self,
        classify: fn(&ClientError) -> Failure,
        mut op: F,
    ) -> std::result::Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, ClientError>>,
    {
        let deadline = Instant::now() + self.retry.deadline;
        let mut pause = self.retry.initial_backoff;
        let mut attempt = 1u32;
        loop {
            let failure = match op().await {
                Ok(v) => return Ok(v),
                Err(e) => classify(&e),
            };
            let now = Instant::now();
            let Failure::Transient(why) = &failure else {
                return Err(failure);
            };
            if now >= deadline {
                return Err(failure);
            }
            tracing::warn!(addr = %self.addr, attempt, error = %why, "Vault call failed; retrying");
            tokio::time::sleep(jitter(pause).min(deadline - now)).await;
            pause = (pause * 2).min(self.retry.max_backoff);
            attempt += 1;
        }
    }

    /// Executes `endpoint` with `client`'s token and the consistency headers.
    async fn exec<E: Endpoint>(
        &self,
        client: &VaultClient,
        endpoint: E,
    ) -> std::result::Result<rustify::endpoint::EndpointResult<E::Response>, ClientError> {
        let middleware = Consistency {
            inner: client.middle(),
            index: &self.index,
        };
        endpoint
            .with_middleware(&middleware)
            .exec(client.http())
            .await
            .map_err(api_error)
    }

    /// [`VaultStore::exec`], returning the `data` of Vault's answer.
    async fn exec_data<E>(
        &self,
        client: &VaultClient,
        endpoint: E,
    ) -> std::result::Result<E::Response, ClientError>
    where
        E: Endpoint,
        E::Response: DeserializeOwned + Send + Sync,
    {
        let answer: EndpointResult<E::Response> = self.exec(client, endpoint).await?.wrap()?;
        answer.data.ok_or(ClientError::ResponseDataEmptyError)
    }

    /// [`VaultStore::exec`], ignoring the body.
    async fn exec_empty<E: Endpoint>(
        &self,
        client: &VaultClient,
        endpoint: E,
    ) -> std::result::Result<(), ClientError> {
        self.exec(client, endpoint).await.map(drop)
    }

    /// [`VaultStore::exec`] of a login, returning the new token.
    async fn exec_auth<E: Endpoint<Response = ()>>(
        &self,
        client: &VaultClient,
        endpoint: E,
    ) -> std::result::Result<AuthInfo, ClientError> {
        let answer: EndpointResult<()> = self.exec(client, endpoint).await?.wrap()?;
        answer.auth.ok_or(ClientError::ResponseEmptyError)
    }

    fn jwt_path(&self) -> String {
        format!("{}/jwt", self.kv_path)
    }

    /// The data of the KV v2 secret at `path` (under the app's path) and its version, if any.
    async fn kv_read(&self, what: &str, path: &str) -> Result<Option<(serde_json::Value, u64)>> {
        let mount = self.kv_mount.as_str();
        let read = self
            .call(|c| async move {
                let endpoint = ReadSecretRequest {
                    mount: mount.to_owned(),
                    path: path.to_owned(),
                    version: None,
                };
                self.exec_data(c.as_ref(), endpoint).await
            })
            .await?;
        match read {
            // A deleted latest version reads as `null` data: the same as none.
            Ok(r) if r.data.is_null() => Ok(None),
            Ok(r) => Ok(Some((r.data, r.metadata.version))),
            Err(Failure::NotFound) => Ok(None),
            Err(f) => Err(self.error(what, f)),
        }
    }

    /// Writes `data` at `path`; with `cas`, only if the secret is still at that version (0: does
    /// not exist yet). `Ok(false)`: someone else wrote first.
    async fn kv_write(
        &self,
        what: &str,
        path: &str,
        data: serde_json::Value,
        cas: Option<u64>,
    ) -> Result<bool> {
        let cas = cas
            .map(|v| u32::try_from(v).map(|cas| SetSecretRequestOptions { cas }))
            .transpose()
            .map_err(|_| Error::Internal(anyhow!("KV version out of range")))?;
        let (mount, data) = (self.kv_mount.as_str(), &data);
        let written = self
            .call(|c| {
                let options = cas.clone();
                async move {
                    let endpoint = SetSecretRequest {
                        mount: mount.to_owned(),
                        path: path.to_owned(),
                        data: data.clone(),
                        options,
                    };
                    self.exec_empty(c.as_ref(), endpoint).await
                }
            })
            .await?;
        match written {
            Ok(()) => Ok(true),
            Err(Failure::CasMismatch) => Ok(false),
            Err(f) => Err(self.error(what, f)),
        }
    }

    /// The stored key set and its KV version, if any.
    async fn read_jwt(&self) -> Result<Option<(StoredJwtKeys, u64)>> {
        let path = self.jwt_path();
        let Some((data, version)) = self.kv_read("read JWT keys", &path).await? else {
            return Ok(None);
        };
        let mount = &self.kv_mount;
        let keys: StoredJwtKeys = serde_json::from_value(data).map_err(|e| {
            Error::Internal(anyhow!(
                "{mount}/{path} in Vault is not a uYoop-Cal JWT key set ({})",
                json_error_kind(&e)
            ))
        })?;
        keys.validate().map_err(|why| {
            Error::Internal(anyhow!(
                "{mount}/{path} in Vault is not a valid JWT key set: {why}"
            ))
        })?;
        Ok(Some((keys, version)))
    }

    /// Writes the key set if the secret is still at `version` (0: does not exist yet).
    /// `Ok(false)`: someone else wrote first.
    async fn write_jwt(&self, keys: &StoredJwtKeys, version: u64) -> Result<bool> {
        let data = serde_json::to_value(keys).map_err(|e| {
            Error::Internal(anyhow!("cannot encode the JWT key set: {}", json_error_kind(&e)))
        })?;
        self.kv_write("write JWT keys", &self.jwt_path(), data, Some(version))
            .await
    }

    /// A pause before trying a check-and-set again: a standby may not have seen the other
    /// writer's version yet.
    async fn cas_pause(&self, attempt: u32) {
        let pause = self.retry.initial_backoff * 2u32.saturating_pow(attempt.min(4));
        tokio::time::sleep(jitter(pause.min(self.retry.max_backoff))).await;
    }

    /// Makes sure the Transit key exists, creating it when missing and allowed, then proves that
    /// encryption works, so that a misconfiguration stops the start rather than a later login.
    async fn ensure_transit_key(&self) -> Result<()> {
        let (mount, name) = (self.transit_mount.as_str(), self.transit_key.as_str());
        let read = self
            .call(|c| async move {
                let endpoint = ReadKeyRequest {
                    mount: mount.to_owned(),
                    name: name.to_owned(),
                };
                self.exec_empty(c.as_ref(), endpoint).await
            })
            .await?;
        match read {
            // Denied: a policy may grant encrypt/decrypt and not read; the probe below decides.
            Ok(()) | Err(Failure::Denied(_)) => {}
            Err(Failure::NotFound) => {
                let created = self
                    .call(|c| async move {
                        let endpoint = CreateKeyRequest {
                            mount: mount.to_owned(),
                            name: name.to_owned(),
                            ..CreateKeyRequest::default()
                        };
                        self.exec_empty(c.as_ref(), endpoint).await
                    })
                    .await?;
                match created {
                    Ok(()) => tracing::info!(mount, key = name, "created the Transit key"),
                    Err(Failure::Denied(_)) => {
                        return Err(Error::Unavailable(format!(
                            "the Transit key `{name}` does not exist in `{mount}` and our token may \
                             not create it: run `bao write -f {mount}/keys/{name}` or grant \
                             `create` on that path (vault.transit_mount, vault.transit_key)"
                        )));
                    }
                    Err(Failure::NotFound | Failure::Other(_)) => {
                        return Err(Error::Unavailable(format!(
                            "no Transit engine at `{mount}` on {}: run `bao secrets enable \
                             -path={mount} transit` or fix vault.transit_mount",
                            self.addr
                        )));
                    }
                    Err(f) => return Err(self.error("create the Transit key", f)),
                }
            }
            Err(f) => return Err(self.error("read the Transit key", f)),
        }
        let probe = self.encrypt(b"uyoop-cal start-up probe").await?;
        self.decrypt(&probe).await?;
        Ok(())
    }
}

#[async_trait]
impl SecretStore for VaultStore {
    fn backend(&self) -> &'static str {
        "vault"
    }

    async fn jwt_keys(&self) -> Result<JwtKeys> {
        // Replicas racing to create the first key set: check-and-set 0 lets one win, the others
        // read the winner's.
        for attempt in 0..CAS_ATTEMPTS {
            if let Some((keys, _)) = self.read_jwt().await? {
                return Ok(keys.to_jwt_keys());
            }
            let fresh = StoredJwtKeys::generate()?;
            if self.write_jwt(&fresh, 0).await? {
                tracing::info!(kid = %fresh.current, "created the JWT signing key set in Vault");
                return Ok(fresh.to_jwt_keys());
            }
            self.cas_pause(attempt).await;
        }
        Err(self.error("create JWT keys", Failure::CasMismatch))
    }

    async fn rotate_jwt_key(&self) -> Result<String> {
        for attempt in 0..CAS_ATTEMPTS {
            let (mut keys, version) = match self.read_jwt().await? {
                Some(found) => found,
                None => (StoredJwtKeys::generate()?, 0),
            };
            let kid = keys.add_key()?;
            if self.write_jwt(&keys, version).await? {
                tracing::info!(%kid, "rotated the JWT signing key in Vault");
                return Ok(kid);
            }
            self.cas_pause(attempt).await;
        }
        Err(self.error("rotate JWT keys", Failure::CasMismatch))
    }

    async fn encrypt(&self, plaintext: &[u8]) -> Result<String> {
        let encoded = Zeroizing::new(B64.encode(plaintext));
        let (mount, name, encoded) = (
            self.transit_mount.as_str(),
            self.transit_key.as_str(),
            encoded.as_str(),
        );
        let response = self
            .call_ok("transit encrypt", |c| async move {
                let endpoint = EncryptDataRequest {
                    mount: mount.to_owned(),
                    name: name.to_owned(),
                    plaintext: encoded.to_owned(),
                    ..EncryptDataRequest::default()
                };
                self.exec_data(c.as_ref(), endpoint).await
            })
            .await?;
        if !response.ciphertext.starts_with("vault:v") {
            return Err(Error::Internal(anyhow!(
                "Transit returned a ciphertext without the vault:vN: prefix"
            )));
        }
        Ok(response.ciphertext)
    }

    async fn decrypt(&self, ciphertext: &str) -> Result<Vec<u8>> {
        if !ciphertext.starts_with("vault:v") {
            return Err(Error::Internal(anyhow!(
                "not a Vault Transit ciphertext (expected vault:v<N>:...)"
            )));
        }
        let (mount, name) = (self.transit_mount.as_str(), self.transit_key.as_str());
        let response = self
            .call_ok("transit decrypt", |c| async move {
                let endpoint = DecryptDataRequest {
                    mount: mount.to_owned(),
                    name: name.to_owned(),
                    ciphertext: ciphertext.to_owned(),
                    ..DecryptDataRequest::default()
                };
                self.exec_data(c.as_ref(), endpoint).await
            })
            .await?;
        let encoded = Zeroizing::new(response.plaintext);
        B64.decode(encoded.as_str())
            .map_err(|_| Error::Internal(anyhow!("Transit returned a plaintext that is not base64")))
    }

    async fn get_secret(&self, name: &str) -> Result<Option<Secret>> {
        check_secret_name(name)?;
        let path = format!("{}/secrets/{name}", self.kv_path);
        let Some((data, _)) = self.kv_read("read a named secret", &path).await? else {
            return Ok(None);
        };
        let secret: NamedSecret = serde_json::from_value(data).map_err(|e| {
            Error::Internal(anyhow!(
                "{}/{path} in Vault is not a named secret ({})",
                self.kv_mount,
                json_error_kind(&e)
            ))
        })?;
        Ok(Some(Secret::new(secret.value.clone())))
    }

    async fn put_secret(&self, name: &str, value: &Secret) -> Result<()> {
        check_secret_name(name)?;
        let path = format!("{}/secrets/{name}", self.kv_path);
        let data = serde_json::json!({ "value": value.expose() });
        self.kv_write("write a named secret", &path, data, None).await?;
        Ok(())
    }

    async fn health(&self) -> Result<()> {
        // sys/health needs no token (so no login yet: a sealed Vault is reported as such); a
        // standby answers for the cluster, since it forwards to the leader.
        let existing = self.session.read().await.as_ref().map(|s| s.client.clone());
        let client = match existing {
            Some(client) => client,
            None => Arc::new(self.build_client("")?),
        };
        self.with_retries(classify_health, || {
            let client = client.clone();
            async move {
                let endpoint = ReadHealthRequest {
                    standbyok: Some(true),
                    perfstandbyok: Some(true),
                    ..ReadHealthRequest::default()
                };
                self.exec_empty(client.as_ref(), endpoint).await
            }
        })
        .await
        .map_err(|f| self.error("sys/health", f))?;
        // Then our credentials: a wrong or expired token fails here, not at the first login.
        self.call_ok("token lookup-self", |c| async move {
            self.exec_empty(c.as_ref(), LookupTokenSelfRequest {}).await
        })
        .await
    }
}

/// Reads Vault's `{"errors": [...]}` out of an error response, as vaultrs does; any other
/// failure keeps its transport error (whose body, if any, is never shown).
fn api_error(e: rustify::errors::ClientError) -> ClientError {
    if let rustify::errors::ClientError::ServerResponseError {
        code,
        content: Some(body),
    } = &e
        && let Ok(parsed) = serde_json::from_str::<EndpointError>(body)
    {
        return ClientError::APIError {
            code: *code,
            errors: parsed.errors,
        };
    }
    ClientError::RestClientError { source: e }
}

/// Classifies a failed call. Only codes and Vault's own error strings are kept: never a body.
fn classify(e: &ClientError) -> Failure {
    use rustify::errors::ClientError as Http;
    match e {
        ClientError::APIError { code, errors } => by_status(*code, errors),
        ClientError::RestClientError { source } => match source {
            Http::ServerResponseError { code, .. } => by_status(*code, &[]),
            // The cause (refused, timed out, certificate not trusted) says what to fix; it holds
            // the URL, never a header or a body.
            Http::RequestError { source, .. } | Http::ResponseError { source } => {
                let cause: String = format!("{source:#}").chars().take(300).collect();
                Failure::Transient(format!("connection failed: {cause}"))
            }
            Http::ResponseParseError { .. } | Http::ResponseConversionError { .. } => {
                Failure::Other("unexpected response body".to_owned())
            }
            _ => Failure::Other("cannot build the request".to_owned()),
        },
        ClientError::ResponseEmptyError | ClientError::ResponseDataEmptyError => {
            Failure::Other("empty response".to_owned())
        }
        ClientError::JsonParseError { .. } => Failure::Other("unexpected response data".to_owned()),
        _ => Failure::Other("client error".to_owned()),
    }
}

/// `sys/health` answers with its status code: 503 sealed, 501 not initialized.
fn classify_health(e: &ClientError) -> Failure {
    match classify(e) {
        Failure::Transient(why) if why.starts_with("HTTP 503") => Failure::Sealed,
        Failure::Other(why) if why.starts_with("HTTP 501") => Failure::Uninitialized,
        other => other,
    }
}

fn by_status(code: u16, errors: &[String]) -> Failure {
    let mut why = format!("HTTP {code}");
    let detail = errors.join("; ");
    let detail = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    if !detail.is_empty() {
        why.push_str(": ");
        why.extend(detail.chars().take(300));
    }
    match code {
        403 => Failure::Denied(why),
        404 => Failure::NotFound,
        400 if detail.contains("check-and-set") => Failure::CasMismatch,
        // 412: a standby has not caught up yet; 429: standby or rate limit; 5xx: sealed, no
        // leader (election in progress), proxy errors.
        412 | 429 | 500 | 502 | 503 | 504 => Failure::Transient(why),
        _ => Failure::Other(why),
    }
}

/// A pause between `d / 2` and `d`, so that replicas do not retry in step.
fn jitter(d: Duration) -> Duration {
    let r = random_bytes::<2>().map_or(u16::MAX, u16::from_le_bytes);
    d / 2 + d.mul_f64(f64::from(r) / f64::from(u16::MAX) / 2.0)
}
