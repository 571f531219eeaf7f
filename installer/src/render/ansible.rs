//! `ansible/`: the roles and `site.yml` copied from the repository, the site's inventory
//! (`inventory/hosts.yml`) and its variables (`inventory/group_vars/all.yml`).

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value, json};

use crate::assets;
use crate::config::{Config, Provider, Role};
use crate::error::Result;
use crate::render::terraform::{AGENT_IP_OFFSET, SERVER_IP_OFFSET};
use crate::render::{HEADER, Site};

/// Pinned K3s release the roles install (and the air-gap bundle carries).
pub const K3S_VERSION: &str = "v1.32.5+k3s1";

/// Creates the K3s join token `pki/k3s-token` (0600) once; later renders keep it, even with
/// `--rotate`, because changing it on a running cluster locks the nodes out.
pub fn ensure_token(site: &mut Site) -> Result<String> {
    let rel = "pki/k3s-token";
    let path = site.root().join(rel);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            site.keep(rel);
            return Ok(existing);
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| crate::error::Error::Random(e.to_string()))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    site.write_secret(rel, format!("{token}\n"))?;
    Ok(token)
}

/// One machine of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Host and Kubernetes node name.
    pub name: String,
    /// Address Ansible connects to.
    pub address: String,
    /// K3s role.
    pub role: Role,
}

fn nth_host(net: &str, n: u32) -> String {
    match net.parse::<IpNet>() {
        Ok(IpNet::V4(v4)) => IpAddr::from(std::net::Ipv4Addr::from(
            u32::from(v4.network()).saturating_add(n),
        ))
        .to_string(),
        Ok(IpNet::V6(v6)) => IpAddr::from(std::net::Ipv6Addr::from(
            u128::from(v6.network()).saturating_add(u128::from(n)),
        ))
        .to_string(),
        Err(_) => String::new(),
    }
}

/// The machines of the site: the provider's hosts, or the addresses Terraform assigns
/// (servers from host number 10, agents from 20, as the modules do).
pub fn machines(c: &Config) -> Vec<Machine> {
    if let Provider::Existing { hosts } = &c.provider {
        return hosts
            .iter()
            .map(|h| Machine {
                name: h.name.clone(),
                address: h.address.clone(),
                role: h.role,
            })
            .collect();
    }
    let mut out = Vec::new();
    for i in 0..c.nodes.servers.count {
        out.push(Machine {
            name: format!("{}-server-{}", c.site, i + 1),
            address: nth_host(&c.network.nodes, SERVER_IP_OFFSET + i),
            role: Role::Server,
        });
    }
    for i in 0..c.nodes.agents.count {
        out.push(Machine {
            name: format!("{}-agent-{}", c.site, i + 1),
            address: nth_host(&c.network.nodes, AGENT_IP_OFFSET + i),
            role: Role::Agent,
        });
    }
    out
}

/// The inventory: group `k3s_cluster` with children `k3s_servers` (the first one initializes
/// etcd) and `k3s_agents`, each host with its `ansible_host`.
pub fn inventory(c: &Config) -> Value {
    let mut servers = Map::new();
    let mut agents = Map::new();
    for m in machines(c) {
        let entry = json!({"ansible_host": m.address});
        match m.role {
            Role::Server => servers.insert(m.name, entry),
            Role::Agent => agents.insert(m.name, entry),
        };
    }
    json!({
        "k3s_cluster": {
            "children": {
                "k3s_servers": {"hosts": servers},
                "k3s_agents": {"hosts": agents},
            }
        }
    })
}

/// Address of the Kubernetes API: Azure's internal load balancer (host number 5, the module's
/// `api_lb_ip_offset`), else the first server (as the modules' `api_endpoint` output).
pub fn api_endpoint(c: &Config) -> String {
    match c.provider {
        Provider::Azure { .. } => nth_host(&c.network.nodes, 5),
        _ => machines(c)
            .into_iter()
            .find(|m| m.role == Role::Server)
            .map(|m| m.address)
            .unwrap_or_default(),
    }
}

/// `group_vars/all.yml`, with exactly the names of the contract in `ansible/README.md`. The join
/// token is not here: `k3s_token` refers to `vault_k3s_token` of `ansible/secrets.yml`.
pub fn group_vars(c: &Config) -> Value {
    let registry_host = c.registry.url.split('/').next().unwrap_or_default().to_owned();
    let registries = if c.registry.mirror {
        let upstreams = ["docker.io", "quay.io", "ghcr.io", "registry.k8s.io", "cgr.dev"];
        let mut mirrors = Map::new();
        for up in upstreams {
            mirrors.insert(
                up.into(),
                json!({
                    "endpoint": [format!("https://{registry_host}")],
                    "rewrite": {"^(.*)$": format!("{}{up}/$1", path_after_host(&c.registry.url))},
                }),
            );
        }
        json!({"mirrors": mirrors})
    } else {
        json!({})
    };
    let mut v = json!({
        "ansible_user": c.ssh.user,
        "k3s_version": K3S_VERSION,
        "k3s_token": "{{ vault_k3s_token }}",
        "k3s_api_endpoint": api_endpoint(c),
        "k3s_registries": registries,
        "airgap_enabled": c.airgap.is_some(),
        "airgap_bundle_dir": c.airgap.as_ref().map(|a| a.bundle.display().to_string()).unwrap_or_default(),
        "common_firewall_admin_cidrs": [c.ssh.admin_cidr],
        "common_firewall_node_cidrs": [c.network.nodes],
        "common_firewall_ingress_cidrs": ["0.0.0.0/0"],
        "common_ntp_servers": [],
        // Air-gapped machines reach no package mirror.
        "common_unattended_upgrades_enabled": c.airgap.is_none(),
        "k3s_server_tls_sans": [format!("k8s.{}", c.domain)],
        "k3s_server_cluster_cidr": c.network.pods,
        "k3s_server_service_cidr": c.network.services,
        "k3s_server_taint_control_plane": c.nodes.agents.count > 0,
        "k3s_server_kubeconfig_dest": "{{ inventory_dir }}/../../kubeconfig.yaml",
        "k3s_manifests_src_dir": "{{ inventory_dir }}/../../kubernetes/manifests",
    });
    // The role's default DNS address (10.43.0.10) only fits the default service range.
    if c.network.services != "10.43.0.0/16" {
        v["k3s_server_cluster_dns"] = json!(nth_host(&c.network.services, 10));
    }
    if let Some(key) = &c.ssh.private_key_file {
        v["ansible_ssh_private_key_file"] = json!(key);
    }
    v
}

/// The project part of a registry URL: `harbor.example.com/uyoop` -> `uyoop/`, none -> ``.
fn path_after_host(url: &str) -> String {
    match url.split_once('/') {
        Some((_, path)) if !path.trim_matches('/').is_empty() => format!("{}/", path.trim_matches('/')),
        _ => String::new(),
    }
}

/// Writes `ansible/`.
pub fn render(c: &Config, site: &mut Site) -> Result<()> {
    // Example inventories of the repository are not the site's.
    assets::copy(site, &assets::ANSIBLE, "", "ansible", |rel| {
        !rel.starts_with("inventory/")
    })?;
    let token = ensure_token(site)?;
    site.write_secret("ansible/secrets.yml", format!("{HEADER}# Secrets of the site: keep this file 0600, or encrypt it with ansible-vault.\nvault_k3s_token: \"{token}\"\n"))?;
    site.yaml("ansible/inventory/hosts.yml", HEADER, &inventory(c))?;
    site.yaml("ansible/inventory/group_vars/all.yml", HEADER, &group_vars(c))
}
