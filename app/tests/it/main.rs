// Tests may unwrap: a panic there is the clearest failure message (see clippy.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests: one binary (fast to link, shared helpers), one module per area.
//! Every test gets its own fresh database; PostgreSQL tests need the server at
//! `UYOOP_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), which
//! `scripts/test.sh` starts when it is not running.

mod auth;
mod cli;
mod comments;
mod events;
mod foundation;
mod helpers;
mod jobs;
mod notifications;
mod ratelimit;
mod rbac_matrix;
mod secrets;
mod store_contract;
