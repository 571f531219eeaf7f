//! `uyoop-install render`: from one checked config to a complete site directory.
//!
//! Rendering is deterministic: the same config gives byte-identical files, except the key
//! material under `pki/` (see [`pki::is_key_material`]). Maps are written with sorted keys, no
//! file carries a time stamp, and files are produced in a fixed order.

pub mod ansible;
pub mod backups;
pub mod kubernetes;
pub mod monitoring;
pub mod patroni;
pub mod pki;
pub mod terraform;
pub mod vault;
pub mod yaml;

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::assets;
use crate::check;
use crate::config::Config;
use crate::error::{Error, Result};

/// Flags of `render`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct RenderArgs {
    /// The config file.
    #[arg(short = 'c', long = "config", default_value = "uyoop.yaml")]
    pub config: PathBuf,
    /// Site directory to write (created when missing).
    #[arg(long, default_value = "site")]
    pub out: PathBuf,
    /// Issue a new PKI (CA and every certificate) instead of keeping the existing one.
    #[arg(long)]
    pub rotate: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The marker file that says a directory is a rendered site (and may be re-rendered into).
pub const MARKER: &str = ".uyoop-site";

/// Top-level folders that render owns and rewrites on each run (`pki/` is kept, see [`pki`]).
pub const GENERATED_DIRS: &[&str] = &[
    "terraform",
    "ansible",
    "kubernetes",
    "vault",
    "patroni",
    "backups",
    "policies",
    "grafana",
    "runbooks",
    "helm",
];

/// Writes files under the site directory and remembers what it wrote.
#[derive(Debug)]
pub struct Site {
    root: PathBuf,
    written: BTreeSet<PathBuf>,
}

impl Site {
    /// A writer rooted at `root`.
    pub fn new(root: &Path) -> Self {
        Site {
            root: root.to_owned(),
            written: BTreeSet::new(),
        }
    }

    /// The site directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every file written or kept, relative to the root, sorted.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.written.iter()
    }

    fn path(&mut self, rel: &str) -> Result<PathBuf> {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        self.written.insert(PathBuf::from(rel));
        Ok(path)
    }

    /// Writes a file readable by everyone (0644).
    pub fn write(&mut self, rel: &str, contents: impl AsRef<[u8]>) -> Result<()> {
        self.write_mode(rel, contents.as_ref(), 0o644)
    }

    /// Writes a file only its owner can read (0600): private keys.
    pub fn write_secret(&mut self, rel: &str, contents: impl AsRef<[u8]>) -> Result<()> {
        self.write_mode(rel, contents.as_ref(), 0o600)
    }

    fn write_mode(&mut self, rel: &str, contents: &[u8], mode: u32) -> Result<()> {
        let path = self.path(rel)?;
        let err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        // Remove first so the mode of a new file is set at creation: a key is never readable
        // by others, not even for an instant.
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        let mut file = options.open(&path).map_err(err)?;
        file.write_all(contents).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The umask may have removed bits from a 0644 file; set the mode exactly.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(err)?;
        }
        Ok(())
    }

    /// Records a file kept from a previous render.
    pub fn keep(&mut self, rel: &str) {
        self.written.insert(PathBuf::from(rel));
    }

    /// Writes a value as YAML (keys sorted).
    pub fn yaml<T: Serialize>(&mut self, rel: &str, header: &str, value: &T) -> Result<()> {
        let text = to_yaml(rel, value)?;
        self.write(rel, format!("{header}{text}"))
    }

    /// Writes a value as pretty JSON (keys sorted) with a final newline.
    pub fn json<T: Serialize>(&mut self, rel: &str, value: &T) -> Result<()> {
        let value = serde_json::to_value(value).map_err(|e| ser_err(rel, &e))?;
        let mut text = serde_json::to_string_pretty(&value).map_err(|e| ser_err(rel, &e))?;
        text.push('\n');
        self.write(rel, text)
    }
}

fn ser_err(what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Serialize {
        what: what.to_owned(),
        message: e.to_string(),
    }
}

/// YAML text of a value, keys sorted (through `serde_json::Value`, whose maps are sorted),
/// safe for YAML 1.1 readers (see [`yaml`]).
pub fn to_yaml<T: Serialize>(what: &str, value: &T) -> Result<String> {
    let value = serde_json::to_value(value).map_err(|e| ser_err(what, &e))?;
    Ok(yaml::emit(&value))
}

/// Several YAML documents in one stream.
pub fn to_yaml_stream(what: &str, docs: &[serde_json::Value]) -> Result<String> {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(&to_yaml(what, doc)?);
    }
    Ok(out)
}

/// Header of generated files that accept `#` comments.
pub const HEADER: &str =
    "# Generated by uyoop-install render from uyoop.yaml: edit uyoop.yaml and render again.\n";

/// Makes `out` ready: creates it, or clears the folders a previous render wrote. Refuses a
/// non-empty directory that is not a site, so a wrong `--out` never deletes anything.
fn prepare(out: &Path) -> Result<()> {
    let werr = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    if out.exists() {
        let non_empty = std::fs::read_dir(out).map_err(werr(out))?.next().is_some();
        if non_empty && !out.join(MARKER).exists() {
            return Err(Error::NotASite(out.to_owned()));
        }
        for dir in GENERATED_DIRS {
            let d = out.join(dir);
            if d.exists() {
                std::fs::remove_dir_all(&d).map_err(werr(&d))?;
            }
        }
    } else {
        std::fs::create_dir_all(out).map_err(werr(out))?;
    }
    Ok(())
}

/// The steps of a render, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Pki,
    Terraform,
    Ansible,
    Vault,
    Patroni,
    Kubernetes,
    Monitoring,
    Backups,
    Assets,
}

impl Step {
    const ALL: [Step; 9] = [
        Step::Pki,
        Step::Terraform,
        Step::Ansible,
        Step::Vault,
        Step::Patroni,
        Step::Kubernetes,
        Step::Monitoring,
        Step::Backups,
        Step::Assets,
    ];

    /// The progress label.
    fn label(self) -> &'static str {
        match self {
            Step::Pki => "pki",
            Step::Terraform => "terraform",
            Step::Ansible => "ansible",
            Step::Vault => "vault",
            Step::Patroni => "patroni",
            Step::Kubernetes => "kubernetes",
            Step::Monitoring => "monitoring",
            Step::Backups => "backups",
            Step::Assets => "policies, dashboards, runbooks, chart",
        }
    }
}

/// Renders the site for an already checked config into `out`.
pub fn render(config: &Config, out: &Path, rotate: bool, progress: &ProgressBar) -> Result<Site> {
    prepare(out)?;
    let mut site = Site::new(out);
    site.write(
        MARKER,
        format!(
            "uYoop-Cal site rendered by uyoop-install {}\n",
            env!("CARGO_PKG_VERSION")
        ),
    )?;
    site.yaml(
        "uyoop.resolved.yaml",
        "# The config as render read it, defaults filled in.\n",
        config,
    )?;
    for step in Step::ALL {
        progress.set_message(step.label());
        match step {
            Step::Pki => {
                let o = pki::ensure(config, &mut site, rotate)?;
                if !o.kept.is_empty() {
                    progress.println(format!(
                        "pki: kept {} (pass --rotate to reissue)",
                        o.kept.join(", ")
                    ));
                }
            }
            Step::Terraform => terraform::render(config, &mut site)?,
            Step::Ansible => ansible::render(config, &mut site)?,
            Step::Vault => vault::render(config, &mut site)?,
            Step::Patroni => patroni::render(config, &mut site)?,
            Step::Kubernetes => kubernetes::render(config, &mut site)?,
            Step::Monitoring => monitoring::render(config, &mut site)?,
            Step::Backups => backups::render(config, &mut site)?,
            Step::Assets => assets::render(config, &mut site)?,
        }
        progress.inc(1);
    }
    Ok(site)
}

/// Runs `render`: load and check the config, then render with a progress bar on a terminal.
pub fn run(args: &RenderArgs) -> Result<()> {
    let config = check::load(&args.config)?;
    let progress = ProgressBar::new(Step::ALL.len() as u64);
    if args.quiet || !std::io::stderr().is_terminal() {
        progress.set_draw_target(ProgressDrawTarget::hidden());
    }
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{bar:24}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let site = render(&config, &args.out, args.rotate, &progress)?;
    progress.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "rendered {} files into {}",
            site.files().count(),
            args.out.display()
        );
    }
    Ok(())
}

/// Renders a built-in minijinja template (strict: an unknown variable is an error).
pub fn template<T: Serialize>(name: &str, source: &str, ctx: &T) -> Result<String> {
    let err = |e: minijinja::Error| Error::Template {
        name: name.to_owned(),
        message: e.to_string(),
    };
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .map_err(err)?,
    );
    env.add_filter("q", |v: minijinja::Value| -> String {
        // JSON strings are valid YAML and HCL strings: quoting and escaping in one step.
        serde_json::to_string(&v).unwrap_or_else(|_| "\"\"".into())
    });
    env.render_str(source, minijinja::value::Serde(ctx)).map_err(err)
}
