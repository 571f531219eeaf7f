//! Integration tests of `uyoop-install`: one binary (faster to link, shared helpers).
//!
//! - `config`: the committed schema is current, the example and `init` outputs pass `check`.
//! - `check_errors`: each broken config names its field and exits non-zero.
//! - `golden`: snapshots of every generated file of the example site (key material excluded).
//! - `determinism`: two renders are byte-identical outside `pki/`.
//! - `pki`: chain, SANs, key usages, lifetimes, 0600 keys, keep and `--rotate`.
//! - `app_values`: the site's values pass the app chart's `values.schema.json`.
//! - `policy_check`: the Gatekeeper policies on the example site's objects and the samples.
//! - `vault_cluster`: the rendered HCL and PKI run as a real 3-node OpenBao Raft cluster.

// Tests may panic on a broken environment: the message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app_values;
mod check_errors;
mod config;
mod determinism;
mod golden;
mod helpers;
mod pki;
mod policy_check;
mod vault_cluster;
