//! uYoop-Cal: a self-hosted DevOps + Agile control center.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of this crate.

pub mod config;
pub mod error;
pub mod http;
pub mod metrics;
pub mod model;
pub mod ratelimit;
pub mod secrets;
pub mod server;
pub mod store;
pub mod telemetry;

pub use error::{Error, Result};
