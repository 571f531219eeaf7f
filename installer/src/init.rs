//! `uyoop-install init`: writes a commented `uyoop.yaml`, from prompts on a terminal or from
//! flags in CI. The written file is checked before it is saved, so `init` never leaves a config
//! that `check` refuses.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::check;
use crate::config::Size;
use crate::error::{Error, Result};

/// Flags of `init`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct InitArgs {
    /// File to write.
    #[arg(short = 'c', long = "config", default_value = "uyoop.yaml")]
    pub config: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Never prompt: take every answer from flags and defaults (CI).
    #[arg(long)]
    pub non_interactive: bool,
    /// Site name, e.g. paris.
    #[arg(long)]
    pub site: Option<String>,
    /// DNS name of the application, e.g. cal.example.com.
    #[arg(long)]
    pub domain: Option<String>,
    /// Where the machines come from.
    #[arg(long, value_enum)]
    pub provider: Option<ProviderKind>,
    /// Number of K3s servers (odd, at least 3).
    #[arg(long)]
    pub servers: Option<u32>,
    /// Number of K3s agents.
    #[arg(long)]
    pub agents: Option<u32>,
    /// Size of each K3s server (default 4:8192:80).
    #[arg(long, value_name = "CPU:MEMORY_MB:DISK_GB", value_parser = parse_size)]
    pub server_size: Option<Size>,
    /// Size of each K3s agent (default 8:16384:120).
    #[arg(long, value_name = "CPU:MEMORY_MB:DISK_GB", value_parser = parse_size)]
    pub agent_size: Option<Size>,
    /// How the public certificate is obtained.
    #[arg(long, value_enum)]
    pub tls: Option<TlsKind>,
    /// Contact email of the ACME account (with --tls acme).
    #[arg(long)]
    pub acme_email: Option<String>,
    /// Image registry, e.g. harbor.example.com/uyoop.
    #[arg(long)]
    pub registry: Option<String>,
    /// Kind of image registry.
    #[arg(long, value_enum)]
    pub registry_kind: Option<RegistryKind>,
    /// The registry mirrors upstream images (air-gapped sites).
    #[arg(long)]
    pub mirror: bool,
    /// SMTP relay host for email notifications (none when omitted).
    #[arg(long)]
    pub smtp_host: Option<String>,
    /// SMTP relay port (587 STARTTLS, 465 implicit TLS).
    #[arg(long)]
    pub smtp_port: Option<u16>,
    /// Sender address of the emails (default uyoop@<domain>).
    #[arg(long)]
    pub smtp_from: Option<String>,
    /// SMTP login user, when the relay requires authentication.
    #[arg(long)]
    pub smtp_username: Option<String>,
    /// SMTP login password, as a reference: env:VAR or file:/path.
    #[arg(long, value_name = "env:VAR|file:PATH", value_parser = parse_secret)]
    pub smtp_password: Option<SecretAnswer>,
    /// Slack incoming webhook URL, as a reference: env:VAR or file:/path.
    #[arg(long, value_name = "env:VAR|file:PATH", value_parser = parse_secret)]
    pub slack_webhook: Option<SecretAnswer>,
    /// Application replicas (3 to 10).
    #[arg(long)]
    pub replicas: Option<u32>,
    /// S3-compatible backup endpoint URL.
    #[arg(long)]
    pub backup_endpoint: Option<String>,
    /// Backup bucket.
    #[arg(long)]
    pub backup_bucket: Option<String>,
    /// SSH public key: the key itself, or the path of a .pub file.
    #[arg(long)]
    pub ssh_public_key: Option<String>,
    /// Range allowed to reach SSH and the Kubernetes API.
    #[arg(long)]
    pub admin_cidr: Option<String>,
    /// Range of the machines' addresses.
    #[arg(long)]
    pub nodes_cidr: Option<String>,
    /// An existing machine, as name=address:role (repeat; with --provider existing).
    #[arg(long = "host", value_name = "NAME=ADDRESS:ROLE")]
    pub hosts: Vec<String>,
    /// Air-gap bundle path.
    #[arg(long)]
    pub airgap_bundle: Option<PathBuf>,
}

/// Provider choices of `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Proxmox VE.
    Proxmox,
    /// Microsoft Azure.
    Azure,
    /// VMware vSphere.
    Vsphere,
    /// Already-provisioned hosts.
    Existing,
}

/// TLS choices of `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsKind {
    /// Let's Encrypt through cert-manager.
    Acme,
    /// The installer's own CA.
    Internal,
}

/// Registry choices of `init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    /// Harbor.
    Harbor,
    /// Any other OCI registry.
    Generic,
}

/// A secret reference given to `init`: where the secret is read at apply time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretAnswer {
    /// `env` or `file`.
    kind: &'static str,
    /// The variable name or the path.
    value: String,
}

/// `env:VAR` or `file:/path`.
pub fn parse_secret(text: &str) -> std::result::Result<SecretAnswer, String> {
    let bad =
        || format!("{text:?}: write env:VARIABLE or file:/path (the secret itself never goes in uyoop.yaml)");
    match text.trim().split_once(':') {
        Some(("env", v))
            if !v.is_empty()
                && v.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                && v.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
        {
            Ok(SecretAnswer {
                kind: "env",
                value: v.to_owned(),
            })
        }
        Some(("file", v)) if v.starts_with('/') => Ok(SecretAnswer {
            kind: "file",
            value: v.to_owned(),
        }),
        _ => Err(bad()),
    }
}

/// `CPU:MEMORY_MB:DISK_GB`, e.g. `4:8192:80`, within the schema's minimums.
pub fn parse_size(text: &str) -> std::result::Result<Size, String> {
    let bad = || format!("{text:?}: write CPU:MEMORY_MB:DISK_GB, e.g. 4:8192:80");
    let parts: Vec<u32> = text
        .trim()
        .split(':')
        .map(|p| p.trim().parse::<u32>().map_err(|_| bad()))
        .collect::<std::result::Result<_, _>>()?;
    let [cpu, memory_mb, disk_gb] = parts[..] else {
        return Err(bad());
    };
    if !(2..=256).contains(&cpu) || memory_mb < 4096 || disk_gb < 40 {
        return Err(format!(
            "{text:?}: at least 2 CPUs (at most 256), 4096 MB of memory and a 40 GB disk"
        ));
    }
    Ok(Size {
        cpu,
        memory_mb,
        disk_gb,
    })
}

/// The SMTP relay answers.
#[derive(Debug, Clone, Serialize)]
struct SmtpAnswer {
    host: String,
    port: u16,
    from: String,
    username: Option<String>,
    password: Option<SecretAnswer>,
}

/// Every answer, resolved: what the template needs.
#[derive(Debug, Clone, Serialize)]
pub struct Answers {
    site: String,
    domain: String,
    provider: ProviderKind,
    proxmox_endpoint: String,
    azure_subscription_id: String,
    servers: u32,
    agents: u32,
    server_size: Size,
    agent_size: Size,
    tls: TlsKind,
    acme_email: String,
    registry_kind: RegistryKind,
    registry: String,
    mirror: bool,
    smtp: Option<SmtpAnswer>,
    slack_webhook: Option<SecretAnswer>,
    replicas: u32,
    backup_endpoint: String,
    backup_bucket: String,
    ssh_public_key: String,
    admin_cidr: String,
    nodes_cidr: String,
    hosts: Vec<HostAnswer>,
    airgap_bundle: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct HostAnswer {
    name: String,
    address: String,
    role: String,
}

/// Runs `init`: resolve the answers, render, check, write.
pub fn run(args: &InitArgs) -> Result<()> {
    if args.config.exists() && !args.force {
        return Err(Error::Exists(args.config.clone()));
    }
    let interactive =
        !args.non_interactive && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let answers = if interactive {
        prompt(args)?
    } else {
        from_flags(args)?
    };
    let text = render(&answers)?;
    check::parse(&text, &args.config)?;
    std::fs::write(&args.config, text).map_err(|source| Error::Write {
        path: args.config.clone(),
        source,
    })?;
    eprintln!(
        "wrote {}; next: uyoop-install check -c {0}",
        args.config.display()
    );
    Ok(())
}

fn ssh_key(value: &str) -> Result<String> {
    let v = value.trim();
    if v.starts_with("ssh-") || v.starts_with("ecdsa-") {
        return Ok(v.to_owned());
    }
    let path = Path::new(v);
    std::fs::read_to_string(path)
        .map(|k| k.trim().to_owned())
        .map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })
}

fn parse_host(spec: &str) -> Result<HostAnswer> {
    let bad = || {
        Error::Prompt(format!(
            "--host {spec:?} is not NAME=ADDRESS:ROLE (role server or agent)"
        ))
    };
    let (name, rest) = spec.split_once('=').ok_or_else(bad)?;
    let (address, role) = rest.rsplit_once(':').ok_or_else(bad)?;
    if role != "server" && role != "agent" {
        return Err(bad());
    }
    Ok(HostAnswer {
        name: name.into(),
        address: address.into(),
        role: role.into(),
    })
}

/// Default answers derived from what is known so far.
fn defaults(args: &InitArgs, site: &str, domain: &str) -> Result<Answers> {
    let provider = args.provider.unwrap_or(ProviderKind::Proxmox);
    let servers = args.servers.unwrap_or(3);
    let agents = args.agents.unwrap_or(2);
    let nodes_cidr = args.nodes_cidr.clone().unwrap_or_else(|| "10.20.0.0/24".into());
    let mut hosts = args
        .hosts
        .iter()
        .map(|h| parse_host(h))
        .collect::<Result<Vec<_>>>()?;
    if provider == ProviderKind::Existing && hosts.is_empty() {
        let base = nodes_cidr.split('/').next().unwrap_or("10.20.0.0");
        let prefix: Vec<&str> = base.split('.').take(3).collect();
        let prefix = prefix.join(".");
        for i in 0..servers {
            hosts.push(HostAnswer {
                name: format!("{site}-server-{}", i + 1),
                address: format!("{prefix}.{}", 10 + i),
                role: "server".into(),
            });
        }
        for i in 0..agents {
            hosts.push(HostAnswer {
                name: format!("{site}-agent-{}", i + 1),
                address: format!("{prefix}.{}", 20 + i),
                role: "agent".into(),
            });
        }
    }
    Ok(Answers {
        site: site.into(),
        domain: domain.into(),
        provider,
        proxmox_endpoint: format!("https://pve.{}:8006/", parent_domain(domain)),
        azure_subscription_id: "00000000-0000-0000-0000-000000000000".into(),
        servers,
        agents,
        server_size: args.server_size.clone().unwrap_or_default(),
        agent_size: args.agent_size.clone().unwrap_or(Size {
            cpu: 8,
            memory_mb: 16384,
            disk_gb: 120,
        }),
        tls: args.tls.unwrap_or(TlsKind::Acme),
        acme_email: args.acme_email.clone().unwrap_or_default(),
        registry_kind: args.registry_kind.unwrap_or(RegistryKind::Harbor),
        smtp: args.smtp_host.clone().map(|host| SmtpAnswer {
            host,
            port: args.smtp_port.unwrap_or(587),
            from: args
                .smtp_from
                .clone()
                .unwrap_or_else(|| format!("uyoop@{domain}")),
            username: args.smtp_username.clone(),
            password: args.smtp_password.clone(),
        }),
        slack_webhook: args.slack_webhook.clone(),
        registry: args
            .registry
            .clone()
            .unwrap_or_else(|| format!("harbor.{}/uyoop", parent_domain(domain))),
        mirror: args.mirror || args.airgap_bundle.is_some(),
        replicas: args.replicas.unwrap_or(3),
        backup_endpoint: args
            .backup_endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}", parent_domain(domain))),
        backup_bucket: args
            .backup_bucket
            .clone()
            .unwrap_or_else(|| format!("uyoop-{site}-backups")),
        ssh_public_key: args
            .ssh_public_key
            .as_deref()
            .map(ssh_key)
            .transpose()?
            .unwrap_or_default(),
        admin_cidr: args.admin_cidr.clone().unwrap_or_else(|| "10.99.0.0/24".into()),
        nodes_cidr,
        hosts,
        airgap_bundle: args.airgap_bundle.as_ref().map(|p| p.display().to_string()),
    })
}

/// `cal.example.com` -> `example.com`: where sibling services (registry, S3) usually live.
fn parent_domain(domain: &str) -> &str {
    match domain.split_once('.') {
        Some((_, rest)) if rest.contains('.') => rest,
        _ => domain,
    }
}

fn from_flags(args: &InitArgs) -> Result<Answers> {
    let site = args.site.clone().ok_or(Error::MissingFlag { flag: "--site" })?;
    let domain = args
        .domain
        .clone()
        .ok_or(Error::MissingFlag { flag: "--domain" })?;
    let answers = defaults(args, &site, &domain)?;
    if answers.ssh_public_key.is_empty() {
        return Err(Error::MissingFlag {
            flag: "--ssh-public-key",
        });
    }
    if answers.tls == TlsKind::Acme && answers.acme_email.is_empty() {
        return Err(Error::MissingFlag { flag: "--acme-email" });
    }
    if answers.smtp.is_none() {
        let details = [
            ("--smtp-port", args.smtp_port.is_some()),
            ("--smtp-from", args.smtp_from.is_some()),
            ("--smtp-username", args.smtp_username.is_some()),
            ("--smtp-password", args.smtp_password.is_some()),
        ];
        if let Some((flag, _)) = details.iter().find(|(_, given)| *given) {
            return Err(Error::FlagNeeds {
                flag,
                needs: "--smtp-host",
            });
        }
    }
    Ok(answers)
}

fn prompt(args: &InitArgs) -> Result<Answers> {
    use dialoguer::{Confirm, Input, Select};
    let p = |e: dialoguer::Error| Error::Prompt(e.to_string());
    // Each answer is checked as it is typed, with the same rules as `check`.
    let checked = |label: &str,
                   default: Option<String>,
                   rule: &dyn Fn(&str) -> std::result::Result<(), String>|
     -> Result<String> {
        let mut input = Input::<String>::new()
            .with_prompt(label)
            .validate_with(|v: &String| rule(v.trim()));
        if let Some(d) = default.filter(|d| !d.is_empty()) {
            input = input.default(d);
        }
        input.interact_text().map(|v| v.trim().to_owned()).map_err(p)
    };
    let any = |_: &str| Ok(());
    let text = |label: &str, default: Option<String>| checked(label, default, &any);
    let cidr = |v: &str| {
        v.parse::<ipnet::IpNet>()
            .map(|_| ())
            .map_err(|_| "write address/prefix, e.g. 10.20.0.0/24".to_owned())
    };
    let site_rule = |v: &str| {
        let ok = (2..=24).contains(&v.len())
            && v.starts_with(|c: char| c.is_ascii_lowercase())
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !v.ends_with('-');
        if ok {
            Ok(())
        } else {
            Err("2 to 24 lowercase letters, digits or dashes, starting with a letter".to_owned())
        }
    };
    let site = checked("Site name (e.g. paris)", args.site.clone(), &site_rule)?;
    let domain = checked(
        "Application DNS name (e.g. cal.example.com)",
        args.domain.clone(),
        &check::valid_dns_name,
    )?;
    let mut a = defaults(args, &site, &domain)?;
    let providers = [
        ProviderKind::Proxmox,
        ProviderKind::Azure,
        ProviderKind::Vsphere,
        ProviderKind::Existing,
    ];
    let names = ["proxmox", "azure", "vsphere", "existing hosts"];
    let current = providers.iter().position(|k| *k == a.provider).unwrap_or(0);
    let chosen = Select::new()
        .with_prompt("Provider")
        .items(names)
        .default(current)
        .interact()
        .map_err(p)?;
    let count = |label: &str, default: u32, lo: u32, hi: u32, odd: bool| -> Result<u32> {
        Input::<u32>::new()
            .with_prompt(label)
            .default(default)
            .validate_with(move |n: &u32| {
                if *n < lo || *n > hi || (odd && n.is_multiple_of(2)) {
                    Err(format!("between {lo} and {hi}{}", if odd { ", odd" } else { "" }))
                } else {
                    Ok(())
                }
            })
            .interact_text()
            .map_err(p)
    };
    let servers = count("K3s servers (odd, 3 to 9)", a.servers, 3, 9, true)?;
    let size_rule = |v: &str| parse_size(v).map(|_| ());
    let size_text = |s: &Size| format!("{}:{}:{}", s.cpu, s.memory_mb, s.disk_gb);
    let server_size = checked(
        "Size of each server (CPU:MEMORY_MB:DISK_GB)",
        Some(size_text(&a.server_size)),
        &size_rule,
    )?;
    let agents = count("K3s agents (0 to 50)", a.agents, 0, 50, false)?;
    let agent_size = if agents > 0 {
        checked(
            "Size of each agent (CPU:MEMORY_MB:DISK_GB)",
            Some(size_text(&a.agent_size)),
            &size_rule,
        )?
    } else {
        size_text(&a.agent_size)
    };
    a.server_size = parse_size(&server_size).map_err(Error::Prompt)?;
    a.agent_size = parse_size(&agent_size).map_err(Error::Prompt)?;
    let args2 = InitArgs {
        provider: providers.get(chosen).copied(),
        servers: Some(servers),
        agents: Some(agents),
        ..args.clone()
    };
    let again = defaults(&args2, &site, &domain)?;
    a.provider = again.provider;
    a.servers = servers;
    a.agents = agents;
    a.hosts = again.hosts;
    if a.provider == ProviderKind::Azure {
        let guid = |v: &str| {
            if v.len() == 36 && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                Ok(())
            } else {
                Err("a subscription GUID".to_owned())
            }
        };
        a.azure_subscription_id = checked("Azure subscription id", None, &guid)?;
    }
    a.nodes_cidr = checked("Node network CIDR", Some(a.nodes_cidr), &cidr)?;
    a.admin_cidr = checked("Admin CIDR (SSH and Kubernetes API)", Some(a.admin_cidr), &cidr)?;
    a.ssh_public_key = ssh_key(&text(
        "SSH public key (key or path to .pub)",
        Some(a.ssh_public_key),
    )?)?;
    let tls = Select::new()
        .with_prompt("Public certificate")
        .items(["Let's Encrypt (ACME)", "site's own CA"])
        .default(usize::from(a.tls == TlsKind::Internal))
        .interact()
        .map_err(p)?;
    a.tls = if tls == 0 {
        TlsKind::Acme
    } else {
        TlsKind::Internal
    };
    if a.tls == TlsKind::Acme {
        let email = |v: &str| {
            if check::valid_email(v) {
                Ok(())
            } else {
                Err("an address such as ops@example.com".to_owned())
            }
        };
        a.acme_email = checked("ACME contact email", Some(a.acme_email), &email)?;
    }
    let kind = Select::new()
        .with_prompt("Image registry kind")
        .items(["Harbor", "other OCI registry"])
        .default(usize::from(a.registry_kind == RegistryKind::Generic))
        .interact()
        .map_err(p)?;
    a.registry_kind = if kind == 0 {
        RegistryKind::Harbor
    } else {
        RegistryKind::Generic
    };
    a.registry = text("Image registry (host[/project])", Some(a.registry))?;
    a.mirror = Confirm::new()
        .with_prompt("Does it mirror every upstream image (required for an air-gapped site)?")
        .default(a.mirror)
        .interact()
        .map_err(p)?;
    // Optional answers: an empty line means none.
    let optional = |label: &str,
                    default: Option<String>,
                    rule: &dyn Fn(&str) -> std::result::Result<(), String>|
     -> Result<Option<String>> {
        let mut input = Input::<String>::new()
            .with_prompt(label)
            .allow_empty(true)
            .validate_with(|v: &String| {
                if v.trim().is_empty() {
                    Ok(())
                } else {
                    rule(v.trim())
                }
            });
        if let Some(d) = default.filter(|d| !d.is_empty()) {
            input = input.default(d);
        }
        let v = input.interact_text().map_err(p)?;
        Ok(Some(v.trim().to_owned()).filter(|v| !v.is_empty()))
    };
    let secret_rule = |v: &str| parse_secret(v).map(|_| ());
    let email_rule = |v: &str| {
        if check::valid_email(v) {
            Ok(())
        } else {
            Err("an address such as uyoop@example.com".to_owned())
        }
    };
    let smtp_default = a.smtp.as_ref().map(|s| s.host.clone());
    a.smtp = match optional("SMTP relay host (empty: no email)", smtp_default, &any)? {
        None => None,
        Some(host) => {
            let port = Input::<u16>::new()
                .with_prompt("SMTP port (587 STARTTLS, 465 TLS)")
                .default(a.smtp.as_ref().map_or(587, |s| s.port))
                .interact_text()
                .map_err(p)?;
            let from = checked("Sender address", Some(format!("uyoop@{}", a.domain)), &email_rule)?;
            let username = optional("SMTP user (empty: no login)", None, &any)?;
            let password = match username {
                Some(_) => optional(
                    "SMTP password reference (env:VAR or file:/path)",
                    None,
                    &secret_rule,
                )?
                .map(|v| parse_secret(&v).map_err(Error::Prompt))
                .transpose()?,
                None => None,
            };
            Some(SmtpAnswer {
                host,
                port,
                from,
                username,
                password,
            })
        }
    };
    a.slack_webhook = optional(
        "Slack webhook reference (env:VAR or file:/path; empty: none)",
        None,
        &secret_rule,
    )?
    .map(|v| parse_secret(&v).map_err(Error::Prompt))
    .transpose()?;
    a.backup_endpoint = text("S3 backup endpoint", Some(a.backup_endpoint))?;
    a.backup_bucket = text("S3 backup bucket", Some(a.backup_bucket))?;
    a.replicas = count("Application replicas (3 to 10)", a.replicas, 3, 10, false)?;
    Ok(a)
}

/// Renders the commented config from the answers.
pub fn render(answers: &Answers) -> Result<String> {
    crate::render::template(
        "uyoop.yaml.j2",
        include_str!("../templates/uyoop.yaml.j2"),
        answers,
    )
}
