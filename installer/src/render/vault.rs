//! `vault/`: the OpenBao / Vault server configuration: Raft storage with TLS `retry_join`, a TLS
//! listener that requires client certificates from the site CA, telemetry, and declarative audit
//! devices.
//!
//! `vault/vault.hcl` is the in-cluster configuration (also embedded in the Vault `HelmChart`);
//! when `vault.nodes` lists hosts, `vault/vault-<i>.hcl` are written per node as well, with their
//! own addresses, ports and data directories (the loopback test cluster runs exactly those).

use serde::Serialize;

use crate::config::Config;
use crate::error::Result;
use crate::render::Site;
use crate::render::pki::ns;

/// Where the pods mount the vault-tls Secret.
pub const POD_TLS_DIR: &str = "/openbao/userconfig/vault-tls";

#[derive(Debug, Serialize)]
struct Tls {
    cert: String,
    key: String,
    ca: String,
}

#[derive(Debug, Serialize)]
struct NodeCtx {
    id: String,
    address: String,
    api_port: u16,
    cluster_port: u16,
}

#[derive(Debug, Serialize)]
struct Ctx {
    site: String,
    node: Option<NodeCtx>,
    listen: String,
    cluster_listen: String,
    tls: Tls,
    data_dir: String,
    audit_file: String,
    peers: Vec<String>,
}

fn render_hcl(ctx: &Ctx) -> Result<String> {
    crate::render::template("vault.hcl.j2", include_str!("../../templates/vault.hcl.j2"), ctx)
}

/// The in-cluster HCL: pods `vault-0..2` behind the `vault-internal` headless Service.
pub fn in_cluster_hcl(c: &Config) -> Result<String> {
    let peers = (0..3)
        .map(|i| format!("https://vault-{i}.vault-internal.{}.svc:8200", ns::VAULT))
        .collect();
    render_hcl(&Ctx {
        site: c.site.clone(),
        node: None,
        listen: "[::]:8200".into(),
        cluster_listen: "[::]:8201".into(),
        tls: Tls {
            cert: format!("{POD_TLS_DIR}/tls.crt"),
            key: format!("{POD_TLS_DIR}/tls.key"),
            ca: format!("{POD_TLS_DIR}/ca.crt"),
        },
        data_dir: "/openbao/data".into(),
        audit_file: "/openbao/audit/audit.log".into(),
        peers,
    })
}

/// The per-node HCL files for `vault.nodes`, as (node id, text).
pub fn node_hcls(c: &Config) -> Result<Vec<(String, String)>> {
    let peers: Vec<String> = c
        .vault
        .nodes
        .iter()
        .map(|n| format!("https://{}:{}", n.address, n.api_port))
        .collect();
    c.vault
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let id = format!("vault-{i}");
            let data_dir = n.data_dir.display().to_string();
            let text = render_hcl(&Ctx {
                site: c.site.clone(),
                node: Some(NodeCtx {
                    id: id.clone(),
                    address: n.address.clone(),
                    api_port: n.api_port,
                    cluster_port: n.cluster_port,
                }),
                listen: format!("{}:{}", n.address, n.api_port),
                cluster_listen: format!("{}:{}", n.address, n.cluster_port),
                tls: Tls {
                    cert: "pki/server/vault.fullchain.crt".into(),
                    key: "pki/server/vault.key".into(),
                    ca: "pki/ca/chain.crt".into(),
                },
                audit_file: format!("{}/audit.log", data_dir.trim_end_matches('/')),
                data_dir,
                peers: peers.clone(),
            })?;
            Ok((id, text))
        })
        .collect()
}

/// Writes `vault/`.
pub fn render(c: &Config, site: &mut Site) -> Result<()> {
    site.write("vault/vault.hcl", in_cluster_hcl(c)?)?;
    for (id, text) in node_hcls(c)? {
        site.write(&format!("vault/{id}.hcl"), text)?;
    }
    site.write("vault/README.md", VAULT_README)
}

const VAULT_README: &str = "# vault/

OpenBao (Vault-compatible) server configuration of the site.

- `vault.hcl`: the configuration the three in-cluster pods run (embedded in
  `kubernetes/manifests/uyoop-helmchart-vault.yaml`). TLS comes from the `vault/vault-tls` Secret made from
  `pki/server/vault.*` and `pki/ca/chain.crt`.
- `vault-<i>.hcl` (only when `vault.nodes` is set): one file per dedicated node.

Every client must present a certificate of the site CA. Operators use `pki/client/operator.*`:

    export BAO_ADDR=https://vault.vault.svc:8200 BAO_CACERT=pki/ca/chain.crt \\
           BAO_CLIENT_CERT=pki/client/operator.crt BAO_CLIENT_KEY=pki/client/operator.key
    bao operator init      # once, on vault-0: keep the unseal keys apart
    bao operator unseal    # on each node, threshold times

Audit devices are declared in the HCL (`audit \"file\" ...`), not enabled through the API:
OpenBao creates them on the active node at start and on SIGHUP, and refuses API-created audit
devices unless `unsafe_allow_api_audit_creation` is set. Raft snapshots are taken by the
`vault-snapshot` CronJob (see `backups/`).
";
