//! `terraform/`: the provider's module copied from the repository, and the site's
//! `terraform.tfvars.json` in the module's input contract (shared names first: `site_name`,
//! `server_count`, `agent_count`, `server_size`, `agent_size`, `network_cidr`, `ssh_public_key`,
//! `admin_cidr`, `admin_username`, `tags`, then the provider's own).

use serde_json::{Map, Value, json};

use crate::assets;
use crate::config::{Config, Provider};
use crate::error::Result;
use crate::render::Site;

/// Host number of the first server and first agent inside `network.nodes` (as the modules'
/// `server_ip_offset` / `agent_ip_offset`, and as the Ansible inventory assumes).
pub const SERVER_IP_OFFSET: u32 = 10;
/// See [`SERVER_IP_OFFSET`].
pub const AGENT_IP_OFFSET: u32 = 20;

/// The variables of the site's Terraform run, or `None` for existing hosts.
pub fn tfvars(c: &Config) -> Option<Value> {
    let mut v = Map::new();
    let size =
        |s: &crate::config::Size| json!({"cpu": s.cpu, "memory_mb": s.memory_mb, "disk_gb": s.disk_gb});
    v.insert("site_name".into(), json!(c.site));
    v.insert("server_count".into(), json!(c.nodes.servers.count));
    v.insert("agent_count".into(), json!(c.nodes.agents.count));
    v.insert("server_size".into(), size(&c.nodes.servers.size));
    v.insert("agent_size".into(), size(&c.nodes.agents.size));
    v.insert("network_cidr".into(), json!(c.network.nodes));
    v.insert("ssh_public_key".into(), json!(c.ssh.public_key));
    v.insert("admin_cidr".into(), json!(c.ssh.admin_cidr));
    v.insert("admin_username".into(), json!(c.ssh.user));
    v.insert("tags".into(), json!({"site": c.site, "domain": c.domain}));
    v.insert("server_ip_offset".into(), json!(SERVER_IP_OFFSET));
    v.insert("agent_ip_offset".into(), json!(AGENT_IP_OFFSET));
    // Azure routes the subnet itself: only the on-premises modules take a gateway and resolvers.
    if !matches!(c.provider, Provider::Azure { .. }) {
        if let Some(g) = &c.network.gateway {
            v.insert("gateway".into(), json!(g));
        }
        if !c.network.dns_servers.is_empty() {
            v.insert("dns_servers".into(), json!(c.network.dns_servers));
        }
    }
    match &c.provider {
        Provider::Proxmox {
            endpoint,
            insecure,
            nodes,
            datastore,
            bridge,
            template_id,
            vlan_id,
        } => {
            v.insert("proxmox_endpoint".into(), json!(endpoint));
            v.insert("proxmox_insecure".into(), json!(insecure));
            v.insert("proxmox_nodes".into(), json!(nodes));
            v.insert("datastore_id".into(), json!(datastore));
            v.insert("network_bridge".into(), json!(bridge));
            v.insert("template_vm_id".into(), json!(template_id));
            if let Some(vlan) = vlan_id {
                v.insert("vlan_id".into(), json!(vlan));
            }
        }
        Provider::Azure {
            location,
            subscription_id,
            resource_group,
        } => {
            v.insert("location".into(), json!(location));
            v.insert("subscription_id".into(), json!(subscription_id));
            v.insert("resource_group_name".into(), json!(resource_group));
        }
        Provider::Vsphere {
            server,
            datacenter,
            cluster,
            datastore,
            network,
            template,
            folder,
            insecure,
        } => {
            v.insert("vsphere_server".into(), json!(server));
            v.insert("vsphere_allow_unverified_ssl".into(), json!(insecure));
            v.insert("vsphere_datacenter".into(), json!(datacenter));
            v.insert("vsphere_cluster".into(), json!(cluster));
            v.insert("vsphere_datastore".into(), json!(datastore));
            v.insert("vsphere_network".into(), json!(network));
            v.insert("vsphere_template".into(), json!(template));
            v.insert("vsphere_folder".into(), json!(folder));
        }
        Provider::Existing { .. } => return None,
    }
    Some(Value::Object(v))
}

/// Writes `terraform/` (nothing for existing hosts): the provider's module under `module/`, and
/// at the top the module's `examples/basic` root (provider configuration, module call, outputs)
/// pointed at `./module`, next to `terraform.tfvars.json`. Run `terraform init && terraform
/// apply` in `terraform/`.
pub fn render(c: &Config, site: &mut Site) -> Result<()> {
    let (Some(module), Some(vars)) = (assets::terraform_module(&c.provider), tfvars(c)) else {
        return Ok(());
    };
    assets::copy(site, &assets::TERRAFORM, module, "terraform/module", |rel| {
        !rel.starts_with("examples/")
    })?;
    let root = format!("{module}/examples/basic/");
    for (path, contents) in assets::files(&assets::TERRAFORM) {
        let Some(name) = path.strip_prefix(&root) else {
            continue;
        };
        if name.contains('/') || !name.ends_with(".tf") {
            continue;
        }
        let text = String::from_utf8_lossy(contents).replace("source = \"../..\"", "source = \"./module\"");
        site.write(&format!("terraform/{name}"), text)?;
    }
    site.json("terraform/terraform.tfvars.json", &vars)
}
