//! Layered configuration: built-in defaults, then an optional file (TOML or YAML), then `UYOOP_*`
//! environment variables (`UYOOP_SECTION__KEY`, e.g. `UYOOP_DATABASE__URL`).
//!
//! Secrets are wrapped in [`Secret`] so that `Debug` and `config check` never print them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml, Yaml};
use serde::{Deserialize, Serialize};

/// A value that must never be printed: `Debug` and `Serialize` show `***`.
#[derive(Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself. Call it only where the value is used, never to log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// Masks the password of a URL (`postgres://user:pw@host/db` -> `postgres://user:***@host/db`).
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            // set_password only fails for URLs that cannot have credentials, which is not this case.
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// The whole effective configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The public HTTP listener.
    pub server: ServerSettings,
    /// The Prometheus listener, kept apart from the public port.
    pub metrics: MetricsSettings,
    /// Storage backend, chosen by the URL scheme.
    pub database: DatabaseSettings,
    /// Optional Redis, for shared rate limits and pub/sub between replicas.
    pub redis: RedisSettings,
    /// Logging.
    pub log: LogSettings,
    /// Accounts, tokens and 2FA.
    pub auth: AuthSettings,
    /// Where signing keys and encryption keys live.
    pub secrets: SecretsSettings,
    /// Vault / OpenBao, when `secrets.backend = "vault"`.
    pub vault: VaultSettings,
    /// Rate limits.
    pub ratelimit: RateLimitSettings,
    /// Background jobs (reminders, digests, deliveries, cron git actions).
    pub jobs: JobSettings,
    /// Outgoing e-mail.
    pub smtp: SmtpSettings,
    /// Chat notifications (Slack, Microsoft Teams incoming webhooks).
    pub notify: NotifySettings,
    /// Deployment rules: conflicts, freezes, approvals.
    pub deployments: DeploymentSettings,
}

/// Background job worker settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Run a worker in this process (every replica does by default; jobs are claimed once).
    pub enabled: bool,
    /// Jobs run at the same time by this worker.
    pub concurrency: u32,
    /// How often an idle worker looks for due jobs, in milliseconds.
    pub poll_interval_ms: u64,
    /// A running job's worker proves it is alive this often, in seconds.
    pub heartbeat_secs: u64,
    /// A running job whose worker has been silent this long is given to another worker, in seconds.
    pub stale_after_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            concurrency: 4,
            poll_interval_ms: 1000,
            heartbeat_secs: 10,
            stale_after_secs: 60,
        }
    }
}

/// SMTP settings; no host means no e-mail (in-app notifications still work).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// Server host; empty disables e-mail.
    pub host: String,
    /// Server port (587 STARTTLS, 465 TLS, 25 or a local relay).
    pub port: u16,
    /// `starttls`, `tls` or `none` (only for a relay on loopback or in tests).
    pub security: String,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Secret>,
    /// Sender, e.g. `uYoop-Cal <noreply@example.com>`.
    pub from: String,
    /// Hour (0-23, server time zone UTC) of the daily digest.
    pub digest_hour_utc: u8,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: "starttls".to_owned(),
            username: None,
            password: None,
            from: "uYoop-Cal <noreply@localhost>".to_owned(),
            digest_hour_utc: 7,
        }
    }
}

/// Chat notification settings: incoming-webhook URLs are secrets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Slack incoming webhook.
    pub slack_webhook_url: Option<Secret>,
    /// Microsoft Teams incoming webhook.
    pub teams_webhook_url: Option<Secret>,
}

/// Deployment rules.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeploymentSettings {
    /// What an overlapping prod window on the same service does: `refuse` or `flag`.
    pub conflict_policy: String,
    /// Let an ADMIN approve their own prod window (single-admin instances); audited.
    pub allow_self_approval: bool,
}

impl Default for DeploymentSettings {
    fn default() -> Self {
        Self {
            conflict_policy: "refuse".to_owned(),
            allow_self_approval: false,
        }
    }
}

/// Who may create an account through `/api/auth/register` (the very first user always may, and
/// becomes ADMIN).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Anyone.
    Open,
    /// Only with an invitation created by an ADMIN.
    #[default]
    InviteOnly,
    /// Nobody: ADMINs create accounts.
    Closed,
}

/// Accounts, tokens and 2FA.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Self-registration policy.
    pub registration: Registration,
    /// Require TOTP for every role (ADMIN always needs it).
    pub require_2fa_for_all: bool,
    /// Lifetime of an access token (at most 1800 s).
    pub access_token_ttl_secs: u64,
    /// Absolute lifetime of a refresh token family (the spec's 7 days).
    pub refresh_token_ttl_secs: u64,
    /// A session unused for this long ends.
    pub refresh_idle_timeout_secs: u64,
    /// `iss` and `aud` of the tokens.
    pub issuer: String,
    /// Consecutive failed logins that lock an account until an ADMIN resets it.
    pub lockout_threshold: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            registration: Registration::InviteOnly,
            require_2fa_for_all: false,
            access_token_ttl_secs: 1800,
            refresh_token_ttl_secs: 7 * 24 * 3600,
            refresh_idle_timeout_secs: 3 * 24 * 3600,
            issuer: "uyoop-cal".to_owned(),
            lockout_threshold: 100,
        }
    }
}

/// Which secrets backend to use.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SecretsBackend {
    /// A local keyring file (the embedded default).
    #[default]
    Local,
    /// Vault / OpenBao: KV v2 for keys, Transit for encryption.
    Vault,
}

/// Secrets settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsSettings {
    /// Backend.
    pub backend: SecretsBackend,
    /// Keyring file of the local backend (created 0600).
    pub keyring_path: PathBuf,
}

impl Default for SecretsSettings {
    fn default() -> Self {
        Self {
            backend: SecretsBackend::Local,
            keyring_path: default_data_dir().join("keyring.json"),
        }
    }
}

/// Vault / OpenBao settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct VaultSettings {
    /// Address, e.g. `https://vault.vault.svc:8200`.
    pub addr: String,
    /// A token (for development and tests); in Kubernetes use `role` instead.
    pub token: Option<Secret>,
    /// Kubernetes auth role; the pod's projected token at `jwt_path` logs in with it.
    pub role: Option<String>,
    /// Mount path of the Kubernetes auth method.
    pub auth_path: String,
    /// File holding the service-account token used with `role`.
    pub jwt_path: PathBuf,
    /// CA bundle that signed Vault's certificate.
    pub cacert: Option<PathBuf>,
    /// Client certificate for mTLS.
    pub client_cert: Option<PathBuf>,
    /// Client key for mTLS.
    pub client_key: Option<PathBuf>,
    /// KV v2 mount.
    pub kv_mount: String,
    /// Path under the KV mount where the app keeps its secrets.
    pub kv_path: String,
    /// Transit mount.
    pub transit_mount: String,
    /// Transit key that encrypts TOTP seeds.
    pub transit_key: String,
}

impl Default for VaultSettings {
    fn default() -> Self {
        Self {
            addr: "https://127.0.0.1:8200".to_owned(),
            token: None,
            role: None,
            auth_path: "kubernetes".to_owned(),
            jwt_path: PathBuf::from("/var/run/secrets/vault/token"),
            cacert: None,
            client_cert: None,
            client_key: None,
            kv_mount: "secret".to_owned(),
            kv_path: "uyoop-cal".to_owned(),
            transit_mount: "transit".to_owned(),
            transit_key: "uyoop-cal-totp".to_owned(),
        }
    }
}

/// Rate limit settings. The limits themselves are the spec's table (`ratelimit::policies`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Turn every limit off (never in production; for load tests).
    pub enabled: bool,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// Public HTTP listener settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// The URL users reach the app at (used in links, cookies and CORS).
    pub public_url: String,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// A request that takes longer is answered 408.
    pub request_timeout_secs: u64,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Proxies (CIDRs) whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<String>,
}

/// Metrics listener settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// Address of the metrics listener (loopback by default: never the public port).
    pub bind: SocketAddr,
}

/// Storage settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` (embedded default) or `postgres://user:pw@host:port/db`.
    pub url: Secret,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long to wait for a pooled connection before failing the request.
    pub acquire_timeout_secs: u64,
}

/// Redis settings; no URL means in-process equivalents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port/db`; empty for none.
    pub url: Option<Secret>,
}

/// Log output settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `auto` (pretty on a terminal, JSON otherwise), `json` or `pretty`.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info,uyoop_cal=debug`. `RUST_LOG` wins when set.
    pub filter: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Pretty on a terminal, JSON otherwise.
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable.
    Pretty,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([0, 0, 0, 0], 8000)),
            public_url: "http://localhost:8000".to_owned(),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 25,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            bind: SocketAddr::from(([127, 0, 0, 1], 9464)),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: Secret::new("sqlite://data/uyoop.db"),
            max_connections: 16,
            acquire_timeout_secs: 5,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Auto,
            filter: "info".to_owned(),
        }
    }
}

impl ServerSettings {
    /// The request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

/// The top-level sections of [`Settings`].
pub const SECTIONS: &[&str] = &[
    "server",
    "metrics",
    "database",
    "redis",
    "log",
    "auth",
    "secrets",
    "vault",
    "ratelimit",
];

/// `UYOOP_X__Y` variables whose section `X` is unknown (probably misspelled), for a warning at start.
pub fn unknown_env_sections() -> Vec<String> {
    std::env::vars()
        .filter_map(|(k, _)| {
            let rest = k.strip_prefix("UYOOP_")?;
            let (section, _) = rest.split_once("__")?;
            (!SECTIONS.contains(&section.to_ascii_lowercase().as_str())).then_some(k)
        })
        .collect()
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    /// An error naming the key at fault, e.g. `database.url: ...`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl Settings {
    /// Loads defaults, then `file` (when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        // Only `UYOOP_<SECTION>__<KEY>` variables of known sections are configuration: others
        // (`UYOOP_CONFIG`, test harness variables) are not, and must not fail the start.
        let env = Env::prefixed("UYOOP_")
            .filter(|key| {
                SECTIONS
                    .iter()
                    .any(|s| key.as_str().to_ascii_lowercase().starts_with(&format!("{s}__")))
            })
            .split("__");
        Self::load_from(file, env)
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Self, ConfigError> {
        // Defaults come from `#[serde(default)]` (the `Default` impls) during extraction, so secrets
        // never need to serialize in clear.
        let mut figment = Figment::new();
        if let Some(path) = file {
            figment = merge_file(figment, path)?;
        }
        extract(&figment.merge(env))
    }

    /// The configuration as TOML with every secret masked, for `config check`.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = Secret(redact_url(self.database.url.expose()));
        if let Some(url) = &self.redis.url {
            shown.redis.url = Some(Secret(redact_url(url.expose())));
        }
        let token_set = self.vault.token.is_some();
        // Secret serializes as "***"; URLs are shown redacted instead, which is more useful.
        let mut value = match serde_json::to_value(&shown) {
            Ok(v) => v,
            Err(e) => return format!("# cannot render configuration: {e}"),
        };
        value["database"]["url"] = serde_json::Value::String(shown.database.url.0.clone());
        match &shown.redis.url {
            Some(url) => value["redis"]["url"] = serde_json::Value::String(url.0.clone()),
            None => value["redis"]["url"] = serde_json::Value::String(String::new()),
        }
        value["vault"]["token"] = serde_json::Value::String(if token_set { "***" } else { "" }.to_owned());
        for section in ["vault", "smtp", "notify"] {
            if let Some(map) = value[section].as_object_mut() {
                map.retain(|_, v| !v.is_null());
            }
        }
        toml::to_string(&value).unwrap_or_else(|e| format!("# cannot render configuration: {e}"))
    }

    /// Checks values that parse but cannot work, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(
                "database.url: unsupported scheme; use sqlite://path/to/file.db or postgres://user@host:5432/db \
                 (env UYOOP_DATABASE__URL)"
                    .to_owned(),
            ));
        }
        if let Some(r) = &self.redis.url
            && !(r.expose().starts_with("redis://") || r.expose().starts_with("rediss://"))
        {
            return Err(ConfigError(
                "redis.url: must start with redis:// or rediss:// (env UYOOP_REDIS__URL)".to_owned(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "database.max_connections: must be at least 1".to_owned(),
            ));
        }
        if self.server.body_limit_bytes < 1024 {
            return Err(ConfigError(
                "server.body_limit_bytes: must be at least 1024".to_owned(),
            ));
        }
        if self.server.request_timeout_secs == 0 {
            return Err(ConfigError(
                "server.request_timeout_secs: must be at least 1".to_owned(),
            ));
        }
        if self.auth.access_token_ttl_secs == 0 || self.auth.access_token_ttl_secs > 1800 {
            return Err(ConfigError(
                "auth.access_token_ttl_secs: must be between 1 and 1800 (30 minutes)".to_owned(),
            ));
        }
        for cidr in &self.server.trusted_proxies {
            if cidr.parse::<ipnet::IpNet>().is_err() && cidr.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError(format!(
                    "server.trusted_proxies: `{cidr}` is not an IP address or CIDR (e.g. 10.42.0.0/16)"
                )));
            }
        }
        if self.secrets.backend == SecretsBackend::Vault
            && self.vault.token.is_none()
            && self.vault.role.is_none()
        {
            return Err(ConfigError(
                "vault.token or vault.role: secrets.backend is vault, so set a token (development) or a \
                 Kubernetes auth role"
                    .to_owned(),
            ));
        }
        if !matches!(self.deployments.conflict_policy.as_str(), "refuse" | "flag") {
            return Err(ConfigError(
                "deployments.conflict_policy: use `refuse` or `flag`".to_owned(),
            ));
        }
        if !matches!(self.smtp.security.as_str(), "starttls" | "tls" | "none") {
            return Err(ConfigError(
                "smtp.security: use `starttls`, `tls` or `none`".to_owned(),
            ));
        }
        if self.smtp.digest_hour_utc > 23 {
            return Err(ConfigError(
                "smtp.digest_hour_utc: an hour from 0 to 23".to_owned(),
            ));
        }
        if self.jobs.concurrency == 0
            || self.jobs.heartbeat_secs == 0
            || self.jobs.stale_after_secs <= self.jobs.heartbeat_secs
        {
            return Err(ConfigError(
                "jobs: concurrency and heartbeat_secs must be at least 1, and stale_after_secs greater than heartbeat_secs"
                    .to_owned(),
            ));
        }
        if url::Url::parse(&self.server.public_url).is_err() {
            return Err(ConfigError(
                "server.public_url: not a URL; use e.g. https://uyoop.example.com".to_owned(),
            ));
        }
        Ok(())
    }
}

fn merge_file(figment: Figment, path: &Path) -> Result<Figment, ConfigError> {
    if !path.exists() {
        return Err(ConfigError(format!("config file {}: not found", path.display())));
    }
    Ok(match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => figment.merge(Yaml::file_exact(path)),
        Some("toml") => figment.merge(Toml::file_exact(path)),
        _ => {
            return Err(ConfigError(format!(
                "config file {}: unknown format; name it *.toml, *.yaml or *.yml",
                path.display()
            )));
        }
    })
}

fn extract(figment: &Figment) -> Result<Settings, ConfigError> {
    let settings: Settings = figment.extract().map_err(|e| {
        let key = e.path.join(".");
        let mut msg = e.kind.to_string();
        // figment's message for an unknown field lists the expected ones; keep it.
        if let Some(md) = &e.metadata {
            msg = format!("{msg} (from {})", md.name);
        }
        if key.is_empty() {
            ConfigError(msg)
        } else {
            ConfigError(format!("{key}: {msg}"))
        }
    })?;
    let mut settings = settings;
    // An empty value (`UYOOP_REDIS__URL=`) means "none", as in the printed configuration.
    if settings.redis.url.as_ref().is_some_and(|u| u.expose().is_empty()) {
        settings.redis.url = None;
    }
    settings.validate()?;
    Ok(settings)
}

/// Where the embedded default keeps its data, relative to the working directory.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // reason: figment::Jail's closure signature, not ours
mod tests {
    use super::*;
    use figment::Jail;

    fn load(jail: &Jail, file: Option<&str>) -> Result<Settings, ConfigError> {
        Settings::load(file.map(|f| jail.directory().join(f)).as_deref())
    }

    #[test]
    fn defaults_are_valid_and_embedded() {
        Jail::expect_with(|jail| {
            let s = load(jail, None).unwrap();
            assert_eq!(s.database.url.expose(), "sqlite://data/uyoop.db");
            assert_eq!(s.metrics.bind.to_string(), "127.0.0.1:9464");
            assert!(s.redis.url.is_none());
            Ok(())
        });
    }

    #[test]
    fn env_overrides_file_and_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[server]\nbind = \"127.0.0.1:9000\"\nbody_limit_bytes = 4096\n",
            )?;
            jail.set_env("UYOOP_SERVER__BODY_LIMIT_BYTES", "8192");
            jail.set_env("UYOOP_DATABASE__URL", "postgres://u:pw@h/db");
            let s = load(jail, Some("c.toml")).unwrap();
            assert_eq!(s.server.bind.to_string(), "127.0.0.1:9000");
            assert_eq!(s.server.body_limit_bytes, 8192);
            assert_eq!(s.database.url.expose(), "postgres://u:pw@h/db");
            Ok(())
        });
    }

    #[test]
    fn unrelated_uyoop_variables_are_not_configuration() {
        Jail::expect_with(|jail| {
            jail.set_env("UYOOP_CONFIG", "/etc/uyoop.toml");
            jail.set_env("UYOOP_TEST_PG_URL", "postgres://x");
            jail.set_env("UYOOP_DATABSE__URL", "typo");
            let s = load(jail, None).unwrap();
            assert_eq!(s.database.url.expose(), "sqlite://data/uyoop.db");
            assert_eq!(unknown_env_sections(), vec!["UYOOP_DATABSE__URL".to_owned()]);
            // A typo inside a known section is an error naming the key.
            jail.set_env("UYOOP_DATABASE__URLL", "x");
            assert!(load(jail, None).unwrap_err().to_string().contains("urll"));
            Ok(())
        });
    }

    #[test]
    fn yaml_files_work_too() {
        Jail::expect_with(|jail| {
            jail.create_file("c.yaml", "log:\n  format: json\n")?;
            let s = load(jail, Some("c.yaml")).unwrap();
            assert_eq!(s.log.format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn secrets_never_in_debug_or_check_output() {
        Jail::expect_with(|jail| {
            jail.set_env("UYOOP_DATABASE__URL", "postgres://u:hunter2secret@h/db");
            jail.set_env("UYOOP_REDIS__URL", "redis://:rpw99@r:6379");
            let s = load(jail, None).unwrap();
            let debug = format!("{s:?}");
            let shown = s.to_redacted_toml();
            for out in [&debug, &shown] {
                assert!(!out.contains("hunter2secret"), "{out}");
                assert!(!out.contains("rpw99"), "{out}");
            }
            assert!(shown.contains("postgres://u:***@h/db"), "{shown}");
            Ok(())
        });
    }

    #[test]
    fn errors_name_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("UYOOP_SERVER__BIND", "not-an-address");
            let err = load(jail, None).unwrap_err();
            assert!(err.to_string().starts_with("server.bind:"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("UYOOP_DATABASE__URL", "mysql://x");
            let err = load(jail, None).unwrap_err();
            assert!(err.to_string().starts_with("database.url:"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("c.toml", "[server]\nbnd = \"x\"\n")?;
            let err = load(jail, Some("c.toml")).unwrap_err();
            assert!(err.to_string().contains("bnd"), "{err}");
            let err = load(jail, Some("missing.toml")).unwrap_err();
            assert!(err.to_string().contains("not found"), "{err}");
            Ok(())
        });
    }
}
