//! Same input, same bytes: two renders of the example into fresh directories differ only in key
//! material; a re-render into the same directory changes nothing at all when --rotate is absent.

use crate::helpers::{example, is_key_material, read_tree, render_into};

#[test]
fn two_renders_are_byte_identical_except_key_material() {
    let config = example();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    render_into(&config, a.path(), false);
    render_into(&config, b.path(), false);
    let (ta, tb) = (read_tree(a.path()), read_tree(b.path()));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "same files"
    );
    let mut compared = 0;
    for (path, bytes) in &ta {
        if is_key_material(path) {
            continue;
        }
        assert!(bytes == &tb[path], "{path} differs between two renders");
        compared += 1;
    }
    assert!(compared > 50, "only {compared} files compared");
}

#[test]
fn rerender_into_the_same_site_is_a_no_op() {
    let config = example();
    let dir = tempfile::tempdir().unwrap();
    render_into(&config, dir.path(), false);
    let before = read_tree(dir.path());
    render_into(&config, dir.path(), false);
    assert!(
        before == read_tree(dir.path()),
        "a second render changed the site (PKI included)"
    );
}

#[test]
fn render_refuses_a_directory_that_is_not_a_site() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let err = uyoop_install::render::render(&example(), dir.path(), false, &indicatif::ProgressBar::hidden())
        .unwrap_err();
    assert!(err.to_string().contains("not a uYoop site"), "{err}");
    assert!(dir.path().join("precious.txt").exists());
}
