//! `uyoop-install`: turns one `uyoop.yaml` into a complete, validated production stack
//! (Terraform, Ansible, Helm values, an mTLS PKI, policies, alerts), then applies it.
//!
//! Each subcommand follows the same shape: clap parses flags into a plain struct, a second step
//! resolves the config and its defaults, and only then does anything touch the disk.

pub mod assets;
pub mod check;
pub mod config;
pub mod error;
pub mod init;
pub mod policy;
pub mod render;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use error::{Error, Problem, Result};

/// Command line of the installer.
#[derive(Debug, Parser)]
#[command(name = "uyoop-install", version, about = "uYoop-Cal appliance installer")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The installer's subcommands, in the order an operator uses them.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum Command {
    /// Write a commented uyoop.yaml (prompts on a TTY, flags in CI).
    Init(Box<init::InitArgs>),
    /// Validate uyoop.yaml against its schema and the semantic rules.
    Check(CheckArgs),
    /// Render Terraform, Ansible, Helm values, PKI, policies and alerts into a site directory.
    Render(render::RenderArgs),
    /// Print the JSON schema of uyoop.yaml.
    Schema,
    /// Evaluate the Gatekeeper policies on Kubernetes YAML files, as admission would.
    PolicyCheck(policy::PolicyCheckArgs),
    /// Check the target machines before anything is changed.
    Preflight,
    /// Show what apply would change.
    Plan,
    /// Apply the rendered site, stage by stage, idempotently.
    Apply,
    /// Upgrade the running stack; rolls back when the upgrade fails.
    Upgrade,
    /// Back up PostgreSQL, Vault and the cluster.
    Backup,
    /// Restore a backup.
    Restore,
    /// Show the state of every component.
    Status,
}

/// Flags of `check`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct CheckArgs {
    /// The config file.
    #[arg(short = 'c', long = "config", default_value = "uyoop.yaml")]
    pub config: PathBuf,
}

impl Command {
    /// Every subcommand with its one-line help, for the overview printed without arguments.
    pub fn overview() -> String {
        use clap::CommandFactory;
        let mut out = String::from("uyoop-install subcommands:\n");
        for sub in Cli::command().get_subcommands() {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            out.push_str(&format!("  {:<13} {}\n", sub.get_name(), about));
        }
        out
    }
}
