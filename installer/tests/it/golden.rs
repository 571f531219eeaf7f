//! Golden snapshots of the example site: every file render generates (not key material, not the
//! folders copied from the repository, which are compared with their source instead).

use crate::helpers::{example, is_copied, is_key_material, read_tree, render_into, repo};

#[test]
fn example_site_matches_the_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    render_into(&example(), dir.path(), false);
    let tree = read_tree(dir.path());
    let mut listing = String::new();
    for (path, bytes) in &tree {
        if is_copied(path) {
            continue;
        }
        if is_key_material(path) {
            listing.push_str(&format!("{path} (key material)\n"));
            continue;
        }
        listing.push_str(&format!("{path}\n"));
        let text = String::from_utf8(bytes.clone()).unwrap();
        insta::assert_snapshot!(path.replace('/', "__"), text);
    }
    insta::assert_snapshot!("tree", listing);
}

#[test]
fn copied_folders_match_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    render_into(&example(), dir.path(), false);
    let tree = read_tree(dir.path());
    let root = repo();
    let mut copied = 0;
    for (path, bytes) in &tree {
        if !is_copied(path) {
            continue;
        }
        let source = if let Some(rest) = path.strip_prefix("terraform/module/") {
            root.join("terraform/proxmox").join(rest)
        } else if let Some(name) = path.strip_prefix("terraform/") {
            root.join("terraform/proxmox/examples/basic").join(name)
        } else {
            root.join(path)
        };
        let mut expected =
            std::fs::read(&source).unwrap_or_else(|e| panic!("{path}: no source {}: {e}", source.display()));
        if path.starts_with("terraform/") && !path.starts_with("terraform/module/") {
            expected = String::from_utf8(expected)
                .unwrap()
                .replace("source = \"../..\"", "source = \"./module\"")
                .into_bytes();
        }
        assert!(bytes == &expected, "{path} differs from {}", source.display());
        copied += 1;
    }
    // The chart and the module are always there; the other folders may still be empty.
    assert!(tree.contains_key("helm/uyoop-cal/Chart.yaml"));
    assert!(tree.contains_key("terraform/module/main.tf"));
    assert!(tree.contains_key("terraform/main.tf"));
    assert!(copied > 5);
}
