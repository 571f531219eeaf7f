//! The repository folders the installer deploys, embedded in the binary so that it is
//! self-contained (one binary per role): Terraform modules, Ansible roles, the app's Helm chart,
//! Gatekeeper policies, Grafana dashboards and runbooks. A folder that is still empty in the
//! repository simply contributes nothing.

use include_dir::{Dir, include_dir};

use crate::config::{Config, Provider};
use crate::error::{Error, Result};
use crate::render::Site;

/// `terraform/` of the repository: one module per provider.
pub static TERRAFORM: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../terraform");
/// `ansible/` of the repository: roles and `site.yml`.
pub static ANSIBLE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../ansible");
/// `helm/` of the repository: the app's chart.
pub static HELM: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../helm");
/// `policies/` of the repository: Gatekeeper templates and constraints.
pub static POLICIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../policies");
/// `grafana/` of the repository: dashboards.
pub static GRAFANA: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../grafana");
/// `runbooks/` of the repository: one page per alert.
pub static RUNBOOKS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../runbooks");

/// Every file of an embedded folder as (path relative to the folder, contents), sorted by path.
pub fn files<'a>(dir: &'a Dir<'a>) -> Vec<(String, &'a [u8])> {
    fn walk<'a>(dir: &'a Dir<'a>, out: &mut Vec<(String, &'a [u8])>) {
        for f in dir.files() {
            out.push((f.path().to_string_lossy().replace('\\', "/"), f.contents()));
        }
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Copies the files of `dir` under `prefix` that `keep` accepts into the site at `dest`.
pub fn copy(
    site: &mut Site,
    dir: &Dir<'_>,
    prefix: &str,
    dest: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<usize> {
    let mut n = 0;
    for (path, contents) in files(dir) {
        let Some(rel) = (if prefix.is_empty() {
            Some(path.as_str())
        } else {
            path.strip_prefix(prefix)
        }) else {
            continue;
        };
        let rel = rel.trim_start_matches('/');
        if rel.is_empty() || !keep(rel) {
            continue;
        }
        site.write(&format!("{dest}/{rel}"), contents)?;
        n += 1;
    }
    Ok(n)
}

/// Name of the Terraform module folder of a provider (`None` for existing hosts).
pub fn terraform_module(provider: &Provider) -> Option<&'static str> {
    match provider {
        Provider::Proxmox { .. } => Some("proxmox"),
        Provider::Azure { .. } => Some("azure"),
        Provider::Vsphere { .. } => Some("vsphere"),
        Provider::Existing { .. } => None,
    }
}

/// The constraint whose parameters come from `registry.allowed`.
pub const ALLOWED_IMAGES: &str = "allowed-images/constraint.yaml";

/// Whether a policy file is deployed: sources, templates and constraints, not tests or samples.
pub fn deployed_policy(rel: &str) -> bool {
    !rel.ends_with("_test.rego")
        && !rel.ends_with(".py")
        && !rel
            .split('/')
            .any(|seg| matches!(seg, "samples" | "tests" | "test" | "examples"))
}

/// The allowed-images Constraint as the site deploys it: `policies/allowed-images/constraint.yaml`
/// with `parameters.registries` set to the site's registries (`None` when the repository has no
/// such policy).
pub fn allowed_images_constraint(config: &Config) -> Result<Option<serde_json::Value>> {
    let Some(file) = POLICIES.get_file(ALLOWED_IMAGES) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(file.contents());
    let mut constraint: serde_json::Value = serde_norway::from_str(&text).map_err(|e| Error::Serialize {
        what: format!("policies/{ALLOWED_IMAGES}"),
        message: e.to_string(),
    })?;
    if let Some(spec) = constraint
        .get_mut("spec")
        .and_then(serde_json::Value::as_object_mut)
    {
        let registries = crate::render::kubernetes::allowed_registries(config);
        spec.entry("parameters").or_insert_with(|| serde_json::json!({}))["registries"] =
            serde_json::json!(registries);
    }
    Ok(Some(constraint))
}

/// Copies the policies, dashboards and runbooks the cluster needs, and the app's chart; the
/// allowed-images constraint gets the site's registries.
pub fn render(config: &Config, site: &mut Site) -> Result<()> {
    copy(site, &POLICIES, "", "policies", |rel| {
        deployed_policy(rel) && rel != ALLOWED_IMAGES
    })?;
    if let Some(constraint) = allowed_images_constraint(config)? {
        site.yaml(
            &format!("policies/{ALLOWED_IMAGES}"),
            crate::render::HEADER,
            &constraint,
        )?;
    }
    copy(site, &GRAFANA, "", "grafana", |_| true)?;
    copy(site, &RUNBOOKS, "", "runbooks", |_| true)?;
    copy(site, &HELM, "uyoop-cal", "helm/uyoop-cal", |_| true)?;
    Ok(())
}
