//! Tests of the `helmvalues` target: golden files for the tutorial's chart
//! values and a file full of comments, anchors and quoting where exactly
//! one line changes per value; created keys; misreadable values quoted;
//! errors that name the file and the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DIGEST, after, assert_text, before, change, changed_lines, helm_change, read};
use updraft_core::config::HelmTarget;
use updraft_gitops::Problem;
use updraft_gitops::targets::helm_values::{apply, set};

const T: &str = "helm-values";

#[test]
fn tutorial_values_dev_changes_only_the_tag_line() {
    let text = read("fixtures/echo-server", "values-dev.yaml");
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
    let got = apply("values-dev.yaml", &text, &[echo, web]).unwrap();
    assert_text(
        "tutorial-values-dev",
        &got,
        &after(T, "tutorial-values-dev"),
    );
    assert_eq!(
        changed_lines(&text, &got),
        vec![("    tag: v1.0", "    tag: v3-5a7147")]
    );
}

#[test]
fn tutorial_values_keeps_the_quoted_tag_quoted() {
    let text = read("fixtures/echo-server", "values.yaml");
    let echo = helm_change(
        "echo=registry.cn-hangzhou.aliyuncs.com/haoshuwei24/echo-server",
        "v1.1",
        "image.repository",
        "image.tag",
    );
    let got = apply("values.yaml", &text, &[echo]).unwrap();
    assert_text("tutorial-values", &got, &after(T, "tutorial-values"));
}

#[test]
fn commented_file_changes_one_line_per_value() {
    let text = read("fixtures", "values-commented.yaml");
    let writes = [
        ("app.image.tag", "1.5.0"),
        ("legacy.image.tag", "legacy-2"),
        ("sidecars[0].image.tag", "v1.30.0"),
        ("sidecars[1].image.tag", "3.0"),
        ("version", "3.10"),
        // Unchanged values make no edit.
        ("sidecars[0].image.name", "envoyproxy/envoy"),
        ("defaults.tag", "stable"),
    ];
    let got = set("values.yaml", &text, &writes).unwrap();
    assert_text("values-commented", &got, &after(T, "values-commented"));
    let changed = changed_lines(&text, &got);
    assert_eq!(changed.len(), 5, "{changed:#?}");
    assert_eq!(
        changed[0],
        (
            "    tag: \"1.4.2\"        # quoted on purpose",
            "    tag: \"1.5.0\"        # quoted on purpose"
        )
    );
    assert_eq!(
        changed[4],
        ("version: &version 3.0.0", "version: &version \"3.10\"")
    );
}

#[test]
fn crlf_line_endings_are_kept() {
    let text = read("fixtures", "values-commented.yaml").replace('\n', "\r\n");
    let got = set(
        "values.yaml",
        &text,
        &[
            ("app.image.tag", "1.5.0"),
            ("app.image.digest", "sha256:ab"),
        ],
    )
    .unwrap();
    assert!(
        !got.replace("\r\n", "").contains('\n'),
        "a bare LF crept in"
    );
    assert!(got.contains("    tag: \"1.5.0\"        # quoted on purpose\r\n"));
    assert!(got.contains("    pullPolicy: IfNotPresent\r\n    digest: sha256:ab\r\n"));
}

#[test]
fn missing_keys_are_created_in_the_files_indentation() {
    let case = "created-keys";
    let text = before(T, case).unwrap();
    let mut app = helm_change("app=ghcr.io/example/app", "1.20", "image.name", "image.tag");
    app.digest = None;
    let got = set("values.yaml", &text, &[("resources.requests.cpu", "100m")]).unwrap();
    let got = apply("values.yaml", &got, &[app]).unwrap();
    assert_text(case, &got, &after(T, case));
}

#[test]
fn empty_file_gets_image_updaters_header() {
    let nginx = helm_change(
        "nginx=nginx",
        "v1.0.0",
        "nginx.image.name",
        "nginx.image.tag",
    );
    let got = apply("values.yaml", "  \n", &[nginx]).unwrap();
    assert_text("empty", &got, &after(T, "empty"));
}

#[test]
fn image_spec_and_digest_values() {
    let text = "image:\n  spec: nginx:1.0 # full reference\n  tag: v1\n";
    let mut spec = change("app=ghcr.io/example/app", "1.2.0");
    spec.helm = Some(HelmTarget::new(None, None, Some("image.spec".into())));
    let got = apply("v.yaml", text, &[spec]).unwrap();
    assert_eq!(
        got,
        "image:\n  spec: ghcr.io/example/app:1.2.0 # full reference\n  tag: v1\n"
    );
    let mut digest = change("app=nginx", "");
    digest.digest = Some(DIGEST.into());
    let got = apply("v.yaml", "image:\n  name: nginx\n  tag: v1\n", &[digest]).unwrap();
    assert_eq!(
        got,
        format!("image:\n  name: nginx\n  tag: latest@{DIGEST}\n")
    );
}

#[test]
fn images_without_alias_are_skipped_like_image_updater() {
    let text = "image:\n  tag: v1\n";
    assert_eq!(
        apply("v.yaml", text, &[change("nginx", "v2")]).unwrap(),
        text
    );
}

#[test]
fn short_docker_hub_names_stay_short() {
    let text = "image:\n  name: bitnami/nginx\n  tag: v0.0.0\n";
    let got = apply(
        "v.yaml",
        text,
        &[change("nginx=docker.io/bitnami/nginx", "v1.0.0")],
    )
    .unwrap();
    assert_eq!(got, "image:\n  name: bitnami/nginx\n  tag: v1.0.0\n");
}

#[test]
fn values_yaml_would_misread_are_quoted() {
    for (value, written) in [
        ("1.20", "\"1.20\""),
        ("16", "\"16\""),
        ("0755", "\"0755\""),
        ("007", "\"007\""),
        ("yes", "\"yes\""),
        ("no", "\"no\""),
        ("on", "\"on\""),
        ("off", "\"off\""),
        ("y", "\"y\""),
        ("true", "\"true\""),
        ("False", "\"False\""),
        ("null", "\"null\""),
        ("~", "\"~\""),
        ("0x1F", "\"0x1F\""),
        ("1e3", "\"1e3\""),
        ("1_000", "\"1_000\""),
        (".inf", "\".inf\""),
        ("1:20", "\"1:20\""),
        ("2024-01-15", "\"2024-01-15\""),
        ("", "\"\""),
        ("-latest", "'-latest'"),
        ("a: b", "'a: b'"),
        ("tag #1", "'tag #1'"),
        ("*anchor", "'*anchor'"),
        ("&anchor", "'&anchor'"),
        ("@ref", "'@ref'"),
        // Safe plain scalars stay plain.
        ("v1.0.0", "v1.0.0"),
        ("1.2.3", "1.2.3"),
        ("sha256-abc", "sha256-abc"),
        ("release-2024", "release-2024"),
        ("v1@sha256:abc", "v1@sha256:abc"),
    ] {
        let got = set("v.yaml", "image:\n  tag: v1 # c\n", &[("image.tag", value)]).unwrap();
        assert_eq!(got, format!("image:\n  tag: {written} # c\n"), "{value:?}");
    }
    // In flow collections `:` and `,` need quotes too.
    let got = set(
        "v.yaml",
        "image: {tag: v1}\n",
        &[("image.tag", "v2@sha256:ab")],
    )
    .unwrap();
    assert_eq!(got, "image: {tag: 'v2@sha256:ab'}\n");
}

#[test]
fn image_updater_set_helm_value_cases() {
    let cases = [
        (
            "image:\n  attributes:\n    name: repo-name\n    tag: v1.0.0\n",
            "image.attributes.tag",
            "v2.0.0",
            "image:\n  attributes:\n    name: repo-name\n    tag: v2.0.0\n",
        ),
        (
            "image.attributes.tag: v1.0.0",
            "image.attributes.tag",
            "v2.0.0",
            "image.attributes.tag: v2.0.0",
        ),
        (
            "image:\n  attributes:\n    name: repo-name\n",
            "image.attributes.tag",
            "v2.0.0",
            "image:\n  attributes:\n    name: repo-name\n    tag: v2.0.0\n",
        ),
        (
            "name: repo-name",
            "tag",
            "v2.0.0",
            "name: repo-name\ntag: v2.0.0",
        ),
        (
            "{}",
            "image.attributes.tag",
            "v2.0.0",
            "{image: {attributes: {tag: v2.0.0}}}",
        ),
        (
            "image:\n  attributes:\n    name: &repo repo-name\n    tag: v1.0.0\n    # this is a comment\n    multiline: |\n      one\n      two\n    alias: *repo\n",
            "image.attributes.tag",
            "v2.0.0",
            "image:\n  attributes:\n    name: &repo repo-name\n    tag: v2.0.0\n    # this is a comment\n    multiline: |\n      one\n      two\n    alias: *repo\n",
        ),
        (
            "images:\n- name: image-1\n  attributes:\n    tag: 1.0.0\n- name: image-2\n  attributes:\n    tag: 1.0.0\n",
            "images[1].attributes.tag",
            "2.0.0",
            "images:\n- name: image-1\n  attributes:\n    tag: 1.0.0\n- name: image-2\n  attributes:\n    tag: 2.0.0\n",
        ),
        (
            "extraContainers:\n  images123:\n  - name: image-1\n    attributes:\n      tag: 1.0.0\n",
            "extraContainers.images123[0].attributes.tag",
            "2.0.0",
            "extraContainers:\n  images123:\n  - name: image-1\n    attributes:\n      tag: 2.0.0\n",
        ),
        (
            "image:\n  attributes: [a, {tag: 1.0.0}]\n",
            "image.attributes[1].tag",
            "2.0.0",
            "image:\n  attributes: [a, {tag: 2.0.0}]\n",
        ),
        (
            "\"quoted.key\":\n  'tag': v1\n",
            "quoted.key",
            "x",
            "\"quoted.key\": x\n  'tag': v1\n",
        ),
    ];
    for (input, path, value, want) in cases {
        let got = set("values.yaml", input, &[(path, value)]);
        match got {
            Ok(got) => assert_eq!(got, want, "{path} in {input:?}"),
            Err(e) if path == "quoted.key" => {
                // A literal key holding a mapping is not a value.
                assert!(e.to_string().contains("is a mapping, not a value"), "{e}");
            }
            Err(e) => panic!("{path} in {input:?}: {e}"),
        }
    }
}

fn error(text: &str, path: &str) -> String {
    let err = set("charts/app/values.yaml", text, &[(path, "v2")]).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("charts/app/values.yaml: "), "{message}");
    message
}

#[test]
fn bad_paths_are_errors_naming_the_key() {
    let list = "images:\n- name: image-1\n  tag: 1.0.0\n";
    let cases = [
        (
            list,
            "images[1].tag",
            "key \"images[1].tag\": index 1 is out of range [0, 1) for the list \"images\"",
        ),
        (list, "images[-1].tag", "index -1 is out of range [0, 1)"),
        (
            list,
            "images[x].tag",
            "the index \"x\" in \"images[x]\" is not a number (write images[0])",
        ),
        (
            list,
            "images.tag",
            "\"images\" is a list; say which entry to set with an index (images[0])",
        ),
        (
            list,
            "images[0].tag.x",
            "\"images[0].tag\" is a scalar value, not a mapping, so \"x\" cannot be set under it",
        ),
        (
            "image:\n  attributes: v1.0.0\n",
            "image.attributes.tag",
            "\"image.attributes\" is a scalar value, not a mapping",
        ),
        (
            "image:\n  tag: v1\n",
            "image[0].tag",
            "\"image\" is a mapping, not a list, so [0] cannot index it",
        ),
        (
            "image:\n  tag: v1\n",
            "image",
            "\"image\" is a mapping, not a value",
        ),
        (
            "image:\n  tag: v1\n",
            "other[0].tag",
            "\"other\" does not exist and list entries are never created",
        ),
        ("image:\n  tag: v1\n", "", "is empty"),
    ];
    for (text, path, want) in cases {
        let message = error(text, path);
        assert!(message.contains(want), "{path}: {message}");
        assert!(message.contains(&format!("key \"{path}\"")), "{message}");
    }
}

#[test]
fn paths_through_aliases_are_refused() {
    let text = read("fixtures", "values-commented.yaml");
    // The alias itself, and a mapping reached through an alias.
    let message = error(&text, "app.image.repository");
    assert!(
        message.contains("\"app.image.repository\" is an alias of &registry; editing through it would change every place that shares &registry"),
        "{message}"
    );
    let message = error(&text, "versionCopy");
    assert!(message.contains("alias of &version"), "{message}");
    let through = "global: &g\n  tag: v1\nimage: *g\n";
    let message = error(through, "image.tag");
    assert!(message.contains("\"image\" is an alias of &g"), "{message}");
    // Anchored definitions are edited in place and keep their anchor.
    assert_eq!(
        set("v", through, &[("global.tag", "v2")]).unwrap(),
        "global: &g\n  tag: v2\nimage: *g\n"
    );
}

#[test]
fn files_that_cannot_be_edited() {
    let err = set("v.yaml", "a: 1\n---\nb: 2\n", &[("a", "2")]).unwrap_err();
    assert_eq!(err.problem, Problem::MultipleDocuments(2));
    let err = set("v.yaml", "- a\n- b\n", &[("a", "2")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "v.yaml: its top level is a list, not a mapping of keys to values (write-back can only edit a mapping)"
    );
    let err = set("v.yaml", "a: [1\n", &[("a", "2")]).unwrap_err();
    assert!(matches!(err.problem, Problem::Syntax(_)), "{err}");
    assert!(err.to_string().contains("fix the syntax"), "{err}");
}

#[test]
fn nothing_to_change_returns_the_input() {
    let text = read("fixtures", "values-commented.yaml");
    assert_eq!(
        set("v", &text, &[("app.image.tag", "1.4.2")]).unwrap(),
        text
    );
    assert_eq!(set("v", &text, &[]).unwrap(), text);
}

#[test]
fn every_value_of_the_commented_file_can_be_set() {
    let text = read("fixtures", "values-commented.yaml");
    let paths = [
        "global.registry",
        "global.labels.team",
        "global.labels.tier",
        "app.image.tag",
        "app.image.pullPolicy",
        "legacy.image.tag",
        "sidecars[0].name",
        "sidecars[0].image.name",
        "sidecars[0].image.tag",
        "sidecars[1].image.name",
        "sidecars[1].image.tag",
        "defaults.tag",
        "worker.name",
        "worker.tag",
        "version",
    ];
    for path in paths {
        for value in ["1.20", "a: b", "it's", "v2@sha256:ab", "x"] {
            let got = set("v.yaml", &text, &[(path, value)])
                .unwrap_or_else(|e| panic!("{path} = {value:?}: {e}"));
            let changed = if path == "worker.tag" {
                // Created next to the merge key, which it overrides.
                assert!(got.contains("  name: worker\n  tag: "), "{got}");
                continue;
            } else {
                changed_lines(&text, &got)
            };
            assert_eq!(changed.len(), 1, "{path} = {value:?}: {changed:#?}");
        }
    }
    // The block scalar collapses onto its key's line.
    let got = set("v.yaml", &text, &[("notes", "short")]).unwrap();
    assert!(got.contains("notes: short\nversion:"), "{got}");
}
