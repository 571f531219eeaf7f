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
pub fn ensure_token(site: &mut Site) -> Result<()> {
    let rel = "pki/k3s-token";
    if site.root().join(rel).exists() {
        site.keep(rel);
        return Ok(());
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| crate::error::Error::Random(e.to_string()))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    site.write_secret(rel, format!("{token}\n"))
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

/// The inventory: groups `k3s_servers` and `k3s_agents` under `k3s_cluster`.
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
        "all": {
            "vars": {"ansible_user": c.ssh.user, "ansible_become": true},
            "children": {
                "k3s_cluster": {
                    "children": {
                        "k3s_servers": {"hosts": servers},
                        "k3s_agents": {"hosts": agents},
                    }
                }
            }
        }
    })
}

/// Variables of every host: the cluster-wide inputs without a prefix (`k3s_version`,
/// `k3s_token`, `k3s_api_endpoint`, `airgap_enabled`, `k3s_registries`) and the roles' own.
/// The join token is not written here: it is read from `pki/k3s-token` (0600) at run time.
pub fn group_vars(c: &Config) -> Value {
    let first_server = machines(c)
        .into_iter()
        .find(|m| m.role == Role::Server)
        .map(|m| m.address)
        .unwrap_or_default();
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
    let has_agents = c.nodes.agents.count > 0;
    json!({
        "uyoop_site": c.site,
        "uyoop_domain": c.domain,
        "k3s_version": K3S_VERSION,
        "k3s_token": "{{ lookup('ansible.builtin.file', inventory_dir ~ '/../../pki/k3s-token') }}",
        "k3s_api_endpoint": first_server,
        "k3s_registries": registries,
        "airgap_enabled": c.airgap.is_some(),
        "airgap_bundle_dir": c.airgap.as_ref().map(|a| a.bundle.display().to_string()).unwrap_or_default(),
        "common_firewall_admin_cidrs": [c.ssh.admin_cidr],
        "common_firewall_node_cidrs": [c.network.nodes, c.network.pods],
        "k3s_server_tls_sans": [c.domain],
        "k3s_server_cluster_cidr": c.network.pods,
        "k3s_server_service_cidr": c.network.services,
        "k3s_server_cluster_dns": nth_host(&c.network.services, 10),
        "k3s_server_taint_control_plane": has_agents,
        "k3s_manifests_src_dir": "{{ inventory_dir }}/../../kubernetes/manifests",
    })
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
    ensure_token(site)?;
    site.yaml("ansible/inventory/hosts.yml", HEADER, &inventory(c))?;
    site.yaml("ansible/inventory/group_vars/all.yml", HEADER, &group_vars(c))
}
