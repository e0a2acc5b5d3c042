//! Tests of the `kustomization` target: Image Updater's override table and
//! filter cases, a commented overlay edited in place, flow and null lists,
//! and errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DIGEST, after, assert_text, before, change, changed_lines};
use updraft_gitops::Problem;
use updraft_gitops::targets::kustomization::{KustomizeImage, set_entries, set_images};

const T: &str = "kustomization";

#[test]
fn image_updaters_override_list_case() {
    let case = "override-list";
    let overrides: Vec<KustomizeImage> =
        ["foo", "foo=bar", "baz@sha12345", "bar:123", "foo=bar:123"]
            .iter()
            .map(|o| KustomizeImage::from_override(o))
            .collect();
    let got = set_entries("kustomization.yaml", &before(T, case).unwrap(), &overrides).unwrap();
    assert_text(case, &got, &after(T, case));
}

#[test]
fn commented_overlay_is_edited_in_place() {
    let case = "overlay";
    let text = before(T, case).unwrap();
    let mut echo = change(
        "echoserver=demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server",
        "v3-5a7147",
    );
    echo.kustomize_image_name =
        Some("demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server".into());
    let changes = [
        echo,
        change("nginx", "1.27.0"),
        change("docker.io/library/redis", "7.2.4"),
        change("busybox", "1.36"),
    ];
    let got = set_images("overlays/dev/kustomization.yaml", &text, &changes).unwrap();
    assert_text(case, &got, &after(T, case));
    // Writing the same again changes nothing.
    assert_eq!(set_images("k", &got, &changes).unwrap(), got);
}

#[test]
fn tutorial_kustomize_application() {
    let case = "tutorial-kustomize";
    let text = before(T, case).unwrap();
    let mut echo = change(
        "echoserver=demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server",
        "v3-5a7147",
    );
    echo.kustomize_image_name =
        Some("demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server".into());
    let got = set_images("Kustomization", &text, &[echo]).unwrap();
    assert_text(case, &got, &after(T, case));
    assert_eq!(changed_lines(&text, &got).len(), 1);
}

#[test]
fn digests_replace_tags_and_back() {
    let text = "images:\n- name: nginx # web\n  newTag: 1.25.0\n";
    let mut c = change("nginx", "1.25.0");
    c.digest = Some(DIGEST.into());
    let got = set_images("k", text, &[c]).unwrap();
    assert_eq!(
        got,
        format!("images:\n- name: nginx # web\n  newTag: 1.25.0\n  digest: {DIGEST}\n")
    );
    let back = set_images("k", &got, &[change("nginx", "1.26.0")]).unwrap();
    assert_eq!(back, "images:\n- name: nginx # web\n  newTag: 1.26.0\n");
}

#[test]
fn flow_null_and_missing_lists() {
    let flow = "images: [{name: nginx, newTag: 1.0.0}]\n";
    assert_eq!(
        set_images("k", flow, &[change("nginx", "1.1.0"), change("redis", "7")]).unwrap(),
        "images: [{name: nginx, newTag: 1.1.0}, {name: redis, newTag: \"7\"}]\n"
    );
    assert_eq!(
        set_images("k", "resources: []\nimages:\n", &[change("nginx", "1.1.0")]).unwrap(),
        "resources: []\nimages:\n- name: nginx\n  newTag: 1.1.0\n"
    );
    assert_eq!(
        set_images("k", "images: ~ # none yet\n", &[change("nginx", "1.1.0")]).unwrap(),
        "images:\n- name: nginx\n  newTag: 1.1.0 # none yet\n"
    );
    assert_eq!(
        set_images("k", "", &[change("nginx", "1.1.0")]).unwrap(),
        "images:\n- name: nginx\n  newTag: 1.1.0\n"
    );
    assert_eq!(
        set_images("k", "{resources: [a.yaml]}\n", &[change("nginx", "1.1.0")]).unwrap(),
        "{resources: [a.yaml], images: [{name: nginx, newTag: 1.1.0}]}\n"
    );
}

#[test]
fn empty_fields_are_filled_after_the_colon() {
    let text = "images:\n- name: nginx\n  newTag:\n  newName: mirror/nginx\n";
    assert_eq!(
        set_images("k", text, &[change("nginx", "1.1.0")]).unwrap(),
        "images:\n- name: nginx\n  newTag: 1.1.0\n  newName: mirror/nginx\n"
    );
}

#[test]
fn crlf_kustomization() {
    let text = "images:\r\n  - name: nginx\r\n    newTag: 1.0.0\r\n";
    let got = set_images(
        "k",
        text,
        &[change("nginx", "1.1.0"), change("redis", "7.2.4")],
    )
    .unwrap();
    assert_eq!(
        got,
        "images:\r\n  - name: nginx\r\n    newTag: 1.1.0\r\n  - name: redis\r\n    newTag: 7.2.4\r\n"
    );
}

#[test]
fn new_name_is_added_but_never_overwritten() {
    let text = "images:\n- name: app\n  newTag: v1\n- name: other\n  newName: mirror/other\n";
    let mut app = change("ghcr.io/example/app", "v2");
    app.kustomize_image_name = Some("app".into());
    let mut other = change("ghcr.io/example/other", "v2");
    other.kustomize_image_name = Some("other".into());
    assert_eq!(
        set_images("k", text, &[app, other]).unwrap(),
        "images:\n- name: app\n  newTag: v2\n  newName: ghcr.io/example/app\n- name: other\n  newName: mirror/other\n  newTag: v2\n"
    );
}

#[test]
fn kustomizations_that_cannot_be_edited() {
    let err = set_images(
        "k/kustomization.yaml",
        "images: {a: 1}\n",
        &[change("nginx", "1")],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "k/kustomization.yaml: key \"images\": is a mapping, not a list (make it a list of {name, newName, newTag, digest} entries)"
    );
    let err = set_images("k", "- a\n", &[change("nginx", "1")]).unwrap_err();
    assert!(matches!(
        err.problem,
        Problem::RootNotMapping { found: "a list" }
    ));
    let err = set_images("k", "a: 1\n---\nb: 2\n", &[change("nginx", "1")]).unwrap_err();
    assert_eq!(err.problem, Problem::MultipleDocuments(2));
}

#[test]
fn unchanged_kustomization_is_returned_as_is() {
    let text = before(T, "overlay").unwrap();
    let mut c = change("redis", "7.0.0");
    c.kustomize_image_name = Some("redis".into());
    c.image = updraft_core::ImageRef::parse("docker.io/library/redis").unwrap();
    // newName differs in spelling only; tag equal: no edit.
    let got = set_images("k", &text, &[c]).unwrap();
    assert_eq!(got, text);
}
