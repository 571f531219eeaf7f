//! The typed model of `uyoop.yaml`, the one file an operator writes.
//!
//! Every struct denies unknown fields, so a typo is an error rather than a silently ignored
//! setting. The JSON schema that `uyoop-install check` validates against is generated from these
//! types ([`schema`]); the doc comments below become the schema's descriptions, and `check` quotes
//! them back when a value is wrong, so they are written for the operator.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One uYoop-Cal site: where it runs, how it is reached, and how it is operated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "uyoop.yaml")]
pub struct Config {
    /// Short name of the site: 2 to 24 lowercase letters, digits or dashes, starting with a
    /// letter, e.g. `paris`. Machines are named `<site>-server-1`, `<site>-agent-1` ...; also
    /// used in Kubernetes labels and cloud tags.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$"))]
    pub site: String,
    /// DNS name the application is served at, e.g. `cal.example.com`. Grafana is served at
    /// `grafana.<domain>`. Both names must resolve to the ingress.
    #[schemars(length(min = 4, max = 253))]
    pub domain: String,
    /// Where the machines come from.
    pub provider: Provider,
    /// The K3s machines: servers (control plane with embedded etcd) and agents.
    pub nodes: Nodes,
    /// Network ranges of the machines, the pods and the services.
    #[serde(default)]
    pub network: Network,
    /// SSH access of the installer to the machines.
    pub ssh: Ssh,
    /// How the public certificate of the application is obtained.
    pub tls: Tls,
    /// Email and chat notifications.
    #[serde(default)]
    pub notifications: Notifications,
    /// Where backups of PostgreSQL, Vault and the cluster are stored.
    pub backup: Backup,
    /// The image registry every workload pulls from.
    pub registry: Registry,
    /// The uYoop-Cal application itself.
    #[serde(default)]
    pub app: App,
    /// PostgreSQL (3 Patroni members).
    #[serde(default)]
    pub postgres: Postgres,
    /// Vault (OpenBao-compatible, 3 Raft nodes).
    #[serde(default)]
    pub vault: Vault,
    /// Air-gapped installation from a local bundle; omit when the machines can reach the
    /// registries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub airgap: Option<Airgap>,
}

/// Where the machines come from: a hypervisor or cloud that Terraform provisions, or hosts that
/// already exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Provider {
    /// Proxmox VE through the bpg/proxmox Terraform provider. The API token is read by Terraform
    /// from `PROXMOX_VE_API_TOKEN`.
    Proxmox {
        /// API endpoint, e.g. `https://pve.example.com:8006/`.
        #[schemars(regex(pattern = r"^https://"))]
        endpoint: String,
        /// Skip verification of the API's TLS certificate (self-signed Proxmox installs only).
        #[serde(default)]
        insecure: bool,
        /// Proxmox nodes to place the machines on, round-robin (at least as many as servers for
        /// full failure isolation).
        #[schemars(length(min = 1))]
        nodes: Vec<String>,
        /// Datastore for the disks, e.g. `local-lvm`.
        #[serde(default = "default_proxmox_datastore")]
        datastore: String,
        /// Network bridge, e.g. `vmbr0`.
        #[serde(default = "default_proxmox_bridge")]
        bridge: String,
        /// Id of the cloud-init template VM to clone.
        #[schemars(range(min = 100))]
        template_id: u32,
        /// VLAN tag of the machines' network device; untagged when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 1, max = 4094))]
        vlan_id: Option<u16>,
    },
    /// Microsoft Azure through the azurerm Terraform provider. Credentials come from the usual
    /// `ARM_*` environment variables.
    Azure {
        /// Azure region, e.g. `westeurope`.
        #[schemars(length(min = 1))]
        location: String,
        /// Subscription id (GUID) to deploy into; authentication comes from the environment.
        #[schemars(regex(pattern = r"^[0-9a-fA-F-]{36}$"))]
        subscription_id: String,
        /// Resource group to create the site in; `<site>-rg` when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource_group: Option<String>,
    },
    /// VMware vSphere through the vsphere Terraform provider. Credentials come from
    /// `VSPHERE_USER` / `VSPHERE_PASSWORD`.
    Vsphere {
        /// vCenter server name.
        #[schemars(length(min = 1))]
        server: String,
        /// Datacenter name.
        #[schemars(length(min = 1))]
        datacenter: String,
        /// Compute cluster name.
        #[schemars(length(min = 1))]
        cluster: String,
        /// Datastore name.
        #[schemars(length(min = 1))]
        datastore: String,
        /// Port group the machines attach to.
        #[schemars(length(min = 1))]
        network: String,
        /// Template virtual machine to clone.
        #[schemars(length(min = 1))]
        template: String,
        /// VM folder; the datacenter's root when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        folder: Option<String>,
        /// Skip verification of vCenter's TLS certificate (lab installs only).
        #[serde(default)]
        insecure: bool,
    },
    /// Machines that already exist: nothing is provisioned, Ansible configures them.
    Existing {
        /// Every machine, with its role. The number of servers and agents must match `nodes`.
        #[schemars(length(min = 3))]
        hosts: Vec<Host>,
    },
}

fn default_proxmox_datastore() -> String {
    "local-lvm".into()
}

fn default_proxmox_bridge() -> String {
    "vmbr0".into()
}

/// One already-provisioned machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Host name, used as the Kubernetes node name.
    #[schemars(regex(pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub name: String,
    /// IP address the installer reaches it at, inside `network.nodes`.
    pub address: String,
    /// K3s role of the machine.
    pub role: Role,
}

/// K3s role of a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Control plane with embedded etcd.
    Server,
    /// Workload node.
    Agent,
}

/// The K3s machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nodes {
    /// K3s servers: control plane with embedded etcd. An odd number, at least 3, so that etcd
    /// keeps a quorum when one is lost.
    pub servers: NodeGroup,
    /// K3s agents that run the workloads (0 runs everything on the servers).
    pub agents: NodeGroup,
}

/// A group of identical machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeGroup {
    /// Number of machines (servers: odd, 3 to 9; agents: 0 to 50).
    #[schemars(range(max = 50))]
    pub count: u32,
    /// Size of each machine.
    #[serde(default)]
    pub size: Size,
}

/// Size of a machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// Virtual CPUs (at least 2).
    #[schemars(range(min = 2, max = 256))]
    pub cpu: u32,
    /// Memory in MiB (at least 4096).
    #[schemars(range(min = 4096))]
    pub memory_mb: u32,
    /// System disk in GB (at least 40).
    #[schemars(range(min = 40))]
    pub disk_gb: u32,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            cpu: 4,
            memory_mb: 8192,
            disk_gb: 80,
        }
    }
}

/// Network ranges, in CIDR notation. The three must not overlap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Range the machines' addresses come from, e.g. `10.20.0.0/24`. Servers get host
    /// numbers 10, 11, ... and agents 20, 21, ... unless the provider is `existing`.
    pub nodes: String,
    /// Default gateway of the node network; the first host of `nodes` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// DNS resolvers of the machines; the provider module's default when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_servers: Vec<String>,
    /// Pod range (Calico), e.g. `10.42.0.0/16`.
    pub pods: String,
    /// Service range, e.g. `10.43.0.0/16`.
    pub services: String,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            nodes: "10.20.0.0/24".into(),
            gateway: None,
            dns_servers: Vec::new(),
            pods: "10.42.0.0/16".into(),
            services: "10.43.0.0/16".into(),
        }
    }
}

/// SSH access of the installer to the machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    /// User the installer logs in as (with passwordless sudo).
    #[serde(default = "default_ssh_user")]
    pub user: String,
    /// OpenSSH public key installed on the machines, e.g. `ssh-ed25519 AAAA... ops@example`.
    #[schemars(regex(
        pattern = r"^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+( .*)?$"
    ))]
    pub public_key: String,
    /// Range allowed to reach SSH and the Kubernetes API, e.g. `10.0.0.0/24`.
    pub admin_cidr: String,
    /// Private key the installer logs in with (the pair of `public_key`); the SSH agent's keys
    /// when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_file: Option<String>,
}

fn default_ssh_user() -> String {
    "uyoop".into()
}

/// How the application's public certificate is obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
pub enum Tls {
    /// Let's Encrypt (or another ACME server) through cert-manager; the domain must be reachable
    /// from the ACME server (HTTP-01).
    Acme {
        /// Contact email registered with the ACME account.
        #[schemars(email)]
        email: String,
        /// ACME directory URL; Let's Encrypt production when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server: Option<String>,
    },
    /// The installer's own intermediate CA issues the certificate through cert-manager (browsers
    /// must trust the site's root CA, `pki/ca/root.crt`).
    Internal,
}

/// A reference to a secret, never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SecretRef {
    /// Path of a file holding the secret (read at apply time).
    File(PathBuf),
    /// Name of an environment variable holding the secret (read at apply time).
    Env(#[schemars(regex(pattern = r"^[A-Z_][A-Z0-9_]*$"))] String),
}

/// Email and chat notifications.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// SMTP relay for email notifications and digests; no email is sent when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Smtp>,
    /// Slack incoming webhook URL, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_webhook: Option<SecretRef>,
    /// Microsoft Teams incoming webhook URL, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_webhook: Option<SecretRef>,
    /// Address critical alerts page by email (Alertmanager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email)]
    pub oncall_email: Option<String>,
    /// Address of the team's alert emails (Alertmanager's default receiver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email)]
    pub team_email: Option<String>,
}

/// SMTP relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Relay host name.
    #[schemars(length(min = 1))]
    pub host: String,
    /// Relay port (587 for STARTTLS, 465 for implicit TLS).
    #[serde(default = "default_smtp_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Sender address of every email.
    #[schemars(email)]
    pub from: String,
    /// Login user, when the relay requires authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Login password, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
}

fn default_smtp_port() -> u16 {
    587
}

/// Backups to an S3-compatible object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// S3-compatible endpoint URL, e.g. `https://s3.example.com`.
    #[schemars(regex(pattern = r"^https?://"))]
    pub endpoint: String,
    /// Bucket name (3 to 63 lowercase letters, digits, dots or dashes).
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: String,
    /// Region name; most S3-compatible stores accept the default.
    #[serde(default = "default_region")]
    pub region: String,
    /// Access key id, as a secret reference.
    pub access_key: SecretRef,
    /// Secret access key, as a secret reference.
    pub secret_key: SecretRef,
    /// When each backup runs, as 5-field cron expressions (UTC).
    #[serde(default)]
    pub schedules: Schedules,
    /// How long backups are kept.
    #[serde(default)]
    pub retention: Retention,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// Backup schedules, 5-field cron expressions (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedules {
    /// PostgreSQL base backup (WAL is archived continuously in between).
    pub postgres: String,
    /// Vault Raft snapshot.
    pub vault: String,
    /// Velero backup of the cluster's objects and volumes.
    pub cluster: String,
}

impl Default for Schedules {
    fn default() -> Self {
        Schedules {
            postgres: "0 2 * * *".into(),
            vault: "30 * * * *".into(),
            cluster: "0 3 * * *".into(),
        }
    }
}

/// Retention of backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days every kind of backup is kept (1 to 3650).
    #[schemars(range(min = 1, max = 3650))]
    pub days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { days: 14 }
    }
}

/// The image registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// Kind of registry.
    #[serde(default)]
    pub kind: RegistryKind,
    /// Registry host and optional port and project, e.g. `harbor.example.com/uyoop`.
    #[schemars(regex(pattern = r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$"))]
    pub url: String,
    /// The registry mirrors every upstream image (required for air-gapped sites): images are
    /// rewritten to `<url>/<upstream path>`.
    #[serde(default)]
    pub mirror: bool,
    /// Pull credentials, when the registry needs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Pull password, as a secret reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
    /// Image prefixes the admission policies accept. Defaults to `url` alone; every entry must
    /// end with `/`-free host or path, e.g. `harbor.example.com/uyoop`.
    #[serde(default)]
    pub allowed: Vec<String>,
}

impl Registry {
    /// The prefixes admission policies accept: `allowed`, or the registry itself.
    pub fn allowed_prefixes(&self) -> Vec<String> {
        if self.allowed.is_empty() {
            vec![self.url.clone()]
        } else {
            self.allowed.clone()
        }
    }
}

/// Kind of image registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegistryKind {
    /// Harbor (projects, replication, vulnerability scanning).
    #[default]
    Harbor,
    /// Any other OCI registry.
    Generic,
}

/// The uYoop-Cal application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Replicas (3 to 10); the autoscaler runs between this number and 10.
    #[schemars(range(min = 3, max = 10))]
    pub replicas: u32,
    /// Image tag of uyoop-cal; the installer's own version when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Digest of the uyoop-cal image (`sha256:` and 64 hex digits), from the release's image
    /// manifest. When set, the pods pull `tag@digest`: what runs cannot change under the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub digest: Option<String>,
}

impl Default for App {
    fn default() -> Self {
        App {
            replicas: 3,
            version: None,
            digest: None,
        }
    }
}

/// PostgreSQL, 3 Patroni members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Postgres {
    /// Synchronous replication: a commit is acknowledged once a replica has it, so a failover
    /// loses no acknowledged write (slightly slower writes).
    pub synchronous: bool,
    /// Volume size of each member, in GB.
    #[schemars(range(min = 1))]
    pub storage_gb: u32,
}

impl Default for Postgres {
    fn default() -> Self {
        Postgres {
            synchronous: true,
            storage_gb: 50,
        }
    }
}

/// Vault (OpenBao-compatible), 3 Raft nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vault {
    /// Volume size of each node, in GB.
    #[schemars(range(min = 1))]
    pub storage_gb: u32,
    /// Run the 3 nodes at these addresses instead of in the cluster (dedicated hosts, or the
    /// loopback test profile). Exactly 3 entries when set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<VaultNode>,
}

impl Default for Vault {
    fn default() -> Self {
        Vault {
            storage_gb: 10,
            nodes: Vec::new(),
        }
    }
}

/// A Vault node outside the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultNode {
    /// Address other nodes and clients reach it at (a DNS name or an IP).
    #[schemars(length(min = 1))]
    pub address: String,
    /// API port (8200 by convention).
    #[schemars(range(min = 1, max = 65535))]
    pub api_port: u16,
    /// Raft cluster port (8201 by convention).
    #[schemars(range(min = 1, max = 65535))]
    pub cluster_port: u16,
    /// Raft data directory on that node.
    pub data_dir: PathBuf,
}

/// Air-gapped installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Airgap {
    /// Directory of the unpacked air-gap bundle on the machine running the installer (K3s
    /// binary, image archives, install script, charts).
    pub bundle: PathBuf,
}

/// The JSON schema of `uyoop.yaml`, generated from the types above.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Config);
    schema.to_value()
}

/// The schema as the pretty-printed text `uyoop-install schema` prints and
/// `installer/uyoop.schema.json` holds.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}
