//! uYoop-Cal: a self-hosted DevOps + Agile control center.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of this crate.

pub mod audit;
pub mod auth;
pub mod comments;
pub mod config;
pub mod error;
pub mod events;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod notifications;
pub mod ratelimit;
pub mod secrets;
pub mod server;
pub mod store;
pub mod teams;
pub mod telemetry;
pub mod users;

pub use error::{Error, Result};
