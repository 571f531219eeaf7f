//! Test harness: fresh databases on both backends, and the real app on a random port.

use std::net::SocketAddr;
use std::sync::Arc;

use uyoop_cal::config::{Secret, Settings};
use uyoop_cal::http::AppState;
use uyoop_cal::store::{self, DynStore};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

fn pg_admin_url() -> String {
    std::env::var("UYOOP_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, empty database, deleted on [`TestDb::cleanup`].
pub struct TestDb {
    pub url: String,
    kind: Db,
    name: String,
    /// Scratch folder of the test: the SQLite file, the keyring.
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(kind: Db) -> TestDb {
        let name = format!("uyoop_test_{}", uuid::Uuid::new_v4().simple());
        let dir = tempfile::tempdir().unwrap();
        match kind {
            Db::Sqlite => {
                let url = format!("sqlite://{}/{name}.db", dir.path().display());
                TestDb { url, kind, name, dir }
            }
            Db::Postgres => {
                let admin = pg_admin_url();
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("PostgreSQL is required for this test at {admin} (UYOOP_TEST_PG_URL): {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                TestDb {
                    url: url.to_string(),
                    kind,
                    name,
                    dir,
                }
            }
        }
    }

    pub fn settings(&self) -> Settings {
        let mut s = Settings::default();
        s.database.url = Secret::new(self.url.clone());
        s.database.max_connections = 8;
        s.server.bind = "127.0.0.1:0".parse().unwrap();
        s.metrics.bind = "127.0.0.1:0".parse().unwrap();
        s.secrets.keyring_path = self.dir.path().join("keyring.json");
        // Test clients claim distinct client IPs through X-Forwarded-For (see `TestApp::login`), so
        // per-IP rate limits stay on in every test without one test user starving another.
        s.server.trusted_proxies = vec!["127.0.0.1/32".into()];
        s
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> DynStore {
        let store = store::connect(&self.settings().database).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Runs raw SQL on the database, outside the app (for checks the API must not allow).
    pub async fn raw_execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self.kind {
            Db::Sqlite => {
                let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&self.url).await?;
                Ok(sqlx::query(sql).execute(&mut c).await?.rows_affected())
            }
            Db::Postgres => {
                let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url).await?;
                Ok(sqlx::query(sql).execute(&mut c).await?.rows_affected())
            }
        }
    }

    pub async fn cleanup(self) {
        if self.kind == Db::Postgres {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_admin_url())
                .await
                .unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// The real app, serving on random loopback ports.
pub struct TestApp {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(kind: Db) -> TestApp {
        Self::spawn_with(kind, |_| {}).await
    }

    pub async fn spawn_with(kind: Db, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let db = TestDb::new(kind).await;
        let mut settings = db.settings();
        tweak(&mut settings);
        let state = uyoop_cal::server::build_state(settings).await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let serve_state = state.clone();
        let task = tokio::spawn(async move {
            uyoop_cal::server::serve(
                serve_state,
                async move {
                    let _ = stopped.await;
                },
                move |r| {
                    let _ = ready_tx.send((r.addr, r.metrics_addr));
                },
            )
            .await
            .unwrap();
        });
        let (addr, metrics_addr) = ready_rx.await.unwrap();
        TestApp {
            addr,
            metrics_addr: metrics_addr.unwrap(),
            state,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            db,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("http://{}/metrics", self.metrics_addr))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Stops the server (draining in-flight requests) and deletes the database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        self.db.cleanup().await;
    }

    pub fn store(&self) -> Arc<dyn uyoop_cal::store::Store> {
        self.state.store.clone()
    }
}

/// Defines `$name::sqlite` and `$name::postgres`, each calling `$body(Db)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Db::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Db::Postgres).await;
                }
            }
        )*
    };
}

/// Asserts a response is problem+json with `status` and returns its body.
pub async fn assert_problem(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().unwrap().starts_with("/problems/"), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

/// A signed-in test user.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub token: String,
    pub refresh_cookie: Option<String>,
    /// Base32 TOTP seed, when 2FA is on.
    pub totp_secret: Option<String>,
}

pub const PASSWORD: &str = "correct horse battery staple";

/// The current TOTP code of a base32 seed, `offset` steps away.
pub fn totp_code(secret_b32: &str, offset: i64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .unwrap();
    let t = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "x".into()).unwrap();
    let now = chrono::Utc::now().timestamp() + offset * 30;
    t.generate(u64::try_from(now).unwrap())
}

/// The value of the refresh cookie in a response, if set.
pub fn refresh_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            c.strip_prefix("__Host-uyoop_refresh=")
                .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        })
}

impl TestApp {
    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Signs in with a password (no second factor), from a client IP of the user's own.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let h = username
            .bytes()
            .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
        let ip = format!("198.18.{}.{}", (h >> 8) & 0xff, h & 0xff);
        self.client
            .post(self.url("/api/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Registers the first user (ADMIN) and completes the mandatory 2FA setup.
    pub async fn admin(&self) -> Session {
        let resp = self
            .post_json(
                "/api/auth/register",
                None,
                serde_json::json!({"username": "admin", "email": "admin@example.com", "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        let resp = self.login("admin", PASSWORD).await;
        assert_eq!(resp.status(), 200);
        let cookie = refresh_cookie(&resp);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["mfa_setup_required"], true);
        let token = body["access_token"].as_str().unwrap().to_owned();
        let setup: serde_json::Value = self
            .post_json("/api/auth/2fa/setup", Some(&token), serde_json::json!({}))
            .await
            .json()
            .await
            .unwrap();
        let secret = setup["secret"].as_str().unwrap().to_owned();
        let resp = self
            .post_json(
                "/api/auth/2fa/enable",
                Some(&token),
                serde_json::json!({"code": totp_code(&secret, 0)}),
            )
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        Session {
            id: body["user"]["id"].as_i64().unwrap(),
            token,
            refresh_cookie: cookie,
            totp_secret: Some(secret),
        }
    }

    /// An ADMIN creates a user with `role`, who then signs in.
    pub async fn user(&self, admin: &Session, username: &str, role: &str) -> Session {
        let resp = self
            .post_json(
                "/api/users",
                Some(&admin.token),
                serde_json::json!({"username": username, "email": format!("{username}@example.com"),
                                   "password": PASSWORD, "role": role}),
            )
            .await;
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        let created: serde_json::Value = resp.json().await.unwrap();
        let resp = self.login(username, PASSWORD).await;
        assert_eq!(resp.status(), 200);
        let cookie = refresh_cookie(&resp);
        let body: serde_json::Value = resp.json().await.unwrap();
        Session {
            id: created["id"].as_i64().unwrap(),
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_cookie: cookie,
            totp_secret: None,
        }
    }
}
