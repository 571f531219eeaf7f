//! Rebuilds the installer when a repository folder it embeds (with `include_dir!`) changes,
//! including files added or removed, which `include_dir!` alone does not track.

fn main() {
    for dir in ["terraform", "ansible", "helm", "policies", "grafana", "runbooks"] {
        println!("cargo:rerun-if-changed=../{dir}");
    }
    println!("cargo:rerun-if-changed=templates");
}
