//! Golden tests of `.argocd-source-<app>.yaml`: every case of the reference
//! (§1.11 formats, §3.1 merge cases) and the tutorial's Helm application,
//! byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DIGEST, after, assert_text, before, change, helm_change};
use updraft_core::config::{HelmTarget, SourceKind};
use updraft_gitops::targets::argocd_source::{apply, set_helm_parameters, set_kustomize_images};
use updraft_gitops::{ImageChange, Problem};

const T: &str = "argocd-source";

fn kustomize_case(case: &str, images: &[&str]) {
    let existing = before(T, case);
    let images: Vec<String> = images.iter().map(|s| s.to_string()).collect();
    let got = set_kustomize_images("f.yaml", existing.as_deref(), &images).unwrap();
    assert_text(case, &got, &after(T, case));
}

#[test]
fn kustomize_merge_appends_new_images() {
    kustomize_case("kustomize-merge-append", &["foo", "bar"]);
}

#[test]
fn kustomize_merge_replaces_changed_tags_in_place() {
    kustomize_case("kustomize-merge-replace", &["new", "updated:latest"]);
}

#[test]
fn kustomize_merge_docker_io_is_the_same_image() {
    kustomize_case("kustomize-merge-docker-io", &["jannfis/foobar:1.0.1"]);
}

#[test]
fn kustomize_new_file_from_image_changes() {
    let mut argocd = change("quay.io/argoproj/argocd", "v2.1.0");
    argocd.image = updraft_core::ImageRef::parse("ghcr.io/argoproj/argocd").unwrap();
    argocd.kustomize_image_name = Some("quay.io/argoproj/argocd".into());
    let foobar = change("jannfis/foobar", "1.0.1");
    let got = apply(
        ".argocd-source-app.yaml",
        None,
        SourceKind::Kustomize,
        &[argocd, foobar],
    )
    .unwrap();
    assert_text("kustomize-new", &got, &after(T, "kustomize-new"));
}

#[test]
fn kustomize_leading_comment_and_document_start_kept() {
    let case = "kustomize-leading-comment";
    let got = apply(
        "f.yaml",
        before(T, case).as_deref(),
        SourceKind::Kustomize,
        &[change("nginx", "1.26.1")],
    )
    .unwrap();
    assert_text(case, &got, &after(T, case));
}

#[test]
fn helm_new_file() {
    let got = apply(
        "f.yaml",
        None,
        SourceKind::Helm,
        &[change("nginx", "1.2.3")],
    )
    .unwrap();
    assert_text("helm-new", &got, &after(T, "helm-new"));
}

#[test]
fn helm_merge_replaces_by_name_and_sorts() {
    let case = "helm-merge-sorted";
    let params = vec![
        ("foo".to_string(), "bar".to_string()),
        ("bar".to_string(), "foo".to_string()),
    ];
    let got = set_helm_parameters("f.yaml", before(T, case).as_deref(), &params).unwrap();
    assert_text(case, &got, &after(T, case));
}

#[test]
fn tutorial_app_helm_dev() {
    let case = "tutorial-app-helm-dev";
    let echo = helm_change(
        "echoserver=demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server",
        "v1.0",
        "image.echoServer.repository",
        "image.echoServer.tag",
    );
    let web = helm_change(
        "webserver=demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-web-server",
        "v3-5a7147",
        "image.echoWebServer.repository",
        "image.echoWebServer.tag",
    );
    let existing = before(T, case);
    let got = apply(
        "manifests/helm/echo-server/.argocd-source-app-helm-dev.yaml",
        existing.as_deref(),
        SourceKind::Helm,
        &[echo.clone(), web.clone()],
    )
    .unwrap();
    assert_text(case, &got, &after(T, case));
    // Writing the same versions again changes nothing.
    let again = apply("f", Some(&got), SourceKind::Helm, &[web, echo]).unwrap();
    assert_eq!(again, got);
}

#[test]
fn helm_digest_spec_and_quoted_values() {
    let mut app = change("ghcr.io/example/app", "latest");
    app.digest = Some(DIGEST.into());
    app.helm = Some(HelmTarget::new(None, None, Some("app.image".into())));
    let nginx = change("nginx", "1.20");
    let mut worker = helm_change(
        "w=ghcr.io/example/worker",
        "",
        "worker.image.name",
        "worker.image.tag",
    );
    worker.digest = Some(DIGEST.into());
    let got = apply("f.yaml", None, SourceKind::Helm, &[worker, nginx, app]).unwrap();
    let case = "helm-digest-and-quoting";
    assert_text(case, &got, &after(T, case));
}

#[test]
fn unchanged_input_is_returned_as_is() {
    // Not in go-yaml's layout, but already holding the value: left alone.
    let text = "helm:\n    parameters:\n        - name: image.name\n          value: nginx\n          forcestring: true\n";
    let got = set_helm_parameters(
        "f",
        Some(text),
        &[("image.name".to_string(), "nginx".to_string())],
    )
    .unwrap();
    assert_eq!(got, text);
    assert_eq!(apply("f", None, SourceKind::Helm, &[]).unwrap(), "");
}

#[test]
fn a_file_that_is_not_a_mapping_is_replaced() {
    // Image Updater's "Invalid unmarshal originalData" case.
    let got = apply(
        "f",
        Some("random content"),
        SourceKind::Helm,
        &[change("nginx", "1.2.3")],
    )
    .unwrap();
    assert_text("helm-new", &got, &after(T, "helm-new"));
}

#[test]
fn other_source_kinds_are_refused() {
    let err = apply(
        "a/.argocd-source-x.yaml",
        None,
        SourceKind::Directory,
        &[change("nginx", "1")],
    )
    .unwrap_err();
    assert!(matches!(err.problem, Problem::SourceKind { .. }));
    let message = err.to_string();
    assert!(
        message.starts_with("a/.argocd-source-x.yaml: the application source is directory"),
        "{message}"
    );
}

#[test]
fn image_change_from_config() {
    let config =
        updraft_core::ImageConfig::new(updraft_core::ImageRef::parse("e=repo/echo:~1.0").unwrap());
    let c = ImageChange::new(&config, "1.0.3", None);
    assert_eq!(c.label(), "e");
    assert_eq!(c.kustomize_override(), "repo/echo:1.0.3");
}
