//! The installer's one error type. Every message says what is wrong and what to do about it.

use std::fmt;
use std::path::PathBuf;

/// One problem found in `uyoop.yaml`: the field, what is wrong, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `nodes.servers.count` (`(root)` for the document).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to change.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if !self.fix.is_empty() {
            write!(f, "\n    fix: {}", self.fix)?;
        }
        Ok(())
    }
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything that can go wrong in the installer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}; check the path (or pass -c <file>)")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}; check that the directory is writable and the disk is not full")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config is not valid YAML.
    #[error("{path}:{line}:{column}: not valid YAML: {message}; fix the syntax at that line")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The config breaks the schema or a semantic rule.
    #[error("{path}: {} problem(s):\n{}", problems.len(), list(problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found, in document order.
        problems: Vec<Problem>,
    },
    /// `init` would overwrite a file.
    #[error("{0} already exists; pass --force to overwrite it")]
    Exists(PathBuf),
    /// `render --out` points at a directory that is not a rendered site.
    #[error(
        "{0} is not empty and is not a uYoop site (no .uyoop-site marker); choose an empty or new directory"
    )]
    NotASite(PathBuf),
    /// A required flag is missing in non-interactive mode.
    #[error("{flag} is required with --non-interactive; pass {flag} <value>")]
    MissingFlag {
        /// The flag.
        flag: &'static str,
    },
    /// A flag was given without the one it completes.
    #[error("{flag} needs {needs}; pass {needs} <value> too, or drop {flag}")]
    FlagNeeds {
        /// The flag given.
        flag: &'static str,
        /// The flag it needs.
        needs: &'static str,
    },
    /// An interactive prompt failed (closed terminal, interrupt).
    #[error("prompt failed: {0}; rerun with --non-interactive and flags")]
    Prompt(String),
    /// A certificate or key could not be generated.
    #[error("cannot issue certificate {name}: {source}")]
    Pki {
        /// The certificate.
        name: String,
        /// Why.
        source: rcgen::Error,
    },
    /// An existing PKI in the site directory cannot be reused.
    #[error(
        "existing PKI file {path} is unusable: {reason}; restore it, or re-render with --rotate to issue a new PKI"
    )]
    PkiExisting {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A built-in template failed to render: a bug in the installer.
    #[error("internal template {name} failed: {message}; please report this bug")]
    Template {
        /// The template.
        name: String,
        /// Why.
        message: String,
    },
    /// The operating system's random generator failed.
    #[error("the system random generator failed: {0}; check that /dev/urandom is available")]
    Random(String),
    /// A policy folder (ConstraintTemplate + Constraint) cannot be loaded or evaluated.
    #[error("policy {name}: {message}; fix the policy folder (see policies/README.md)")]
    Policy {
        /// The policy folder.
        name: String,
        /// Why.
        message: String,
    },
    /// A manifest given to `policy-check` is not valid YAML.
    #[error("{path}: not a valid Kubernetes YAML document: {message}")]
    Manifest {
        /// The file (with line and column when known).
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A value could not be serialized: a bug in the installer.
    #[error("internal serialization of {what} failed: {message}; please report this bug")]
    Serialize {
        /// What was serialized.
        what: String,
        /// Why.
        message: String,
    },
}

/// The installer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
