//! Helpers shared by the integration tests: golden files and image changes.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use updraft_core::ImageRef;
use updraft_core::config::{HelmTarget, ImageConfig};
use updraft_gitops::ImageChange;

/// A digest for the digest-strategy cases.
pub const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The text of `tests/<dir>/<name>`.
pub fn read(dir: &str, name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", dir, name]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `tests/golden/<target>/<case>.before.yaml`, if the case has one.
pub fn before(target: &str, case: &str) -> Option<String> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "golden",
        target,
        &format!("{case}.before.yaml"),
    ]
    .iter()
    .collect();
    path.exists()
        .then(|| read(&format!("golden/{target}"), &format!("{case}.before.yaml")))
}

/// `tests/golden/<target>/<case>.after.yaml`.
pub fn after(target: &str, case: &str) -> String {
    read(&format!("golden/{target}"), &format!("{case}.after.yaml"))
}

/// Asserts byte equality and shows both texts when they differ.
pub fn assert_text(case: &str, got: &str, want: &str) {
    assert!(
        got == want,
        "{case}: output differs from golden\n--- got ---\n{got}\n--- want ---\n{want}"
    );
}

/// A change of `image` (`[alias=]image`) to `tag`.
pub fn change(image: &str, tag: &str) -> ImageChange {
    let config = ImageConfig::new(ImageRef::parse(image).unwrap());
    ImageChange::new(&config, tag, None)
}

/// A change with Helm parameter names (`name`, `tag`, optional `spec`).
pub fn helm_change(image: &str, tag: &str, name: &str, tag_param: &str) -> ImageChange {
    let mut c = change(image, tag);
    c.helm = Some(HelmTarget::new(
        Some(name.into()),
        Some(tag_param.into()),
        None,
    ));
    c
}

/// The lines of `before` and `after` that differ (same line count asserted).
pub fn changed_lines<'a>(before: &'a str, after: &'a str) -> Vec<(&'a str, &'a str)> {
    let b: Vec<&str> = before.split('\n').collect();
    let a: Vec<&str> = after.split('\n').collect();
    assert_eq!(b.len(), a.len(), "line count changed:\n{after}");
    b.into_iter().zip(a).filter(|(x, y)| x != y).collect()
}
