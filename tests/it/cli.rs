//! `updraft resolve` and `updraft plugin` through the real binary: JSON
//! decisions on stdout, one-line errors and a non-zero exit on bad input.

use updraft_tests::{json_stdout, updraft};

fn write_temp(name: &str, content: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("updraft-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Asserts failure with one line on stderr containing every `needle`.
fn assert_error(args: &[&str], stdin: Option<&str>, needles: &[&str]) {
    let out = updraft(args, stdin).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
    let line = stderr.trim();
    assert!(line.starts_with("error: "), "{args:?}: {line}");
    assert_eq!(line.lines().count(), 1, "{args:?}: not one line: {line}");
    for needle in needles {
        assert!(line.contains(needle), "{args:?}: '{needle}' not in: {line}");
    }
    assert!(
        out.stdout.is_empty(),
        "{args:?}: printed a decision on error"
    );
}

#[test]
fn resolve_prints_a_json_decision() {
    let tags = r#"["0.1", "1.0", "1.0.1", "1.1.2", "2.0.3", "latest",
        {"name": "1.1.3-rc1", "digest": "sha256:aaaa", "created": "2024-05-01T10:00:00Z"}]"#;
    let out = updraft(
        &[
            "resolve",
            "--tags",
            "-",
            "--semver-constraint",
            "^1.0",
            "--current",
            "1.0",
        ],
        Some(tags),
    )
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_stdout(&out).unwrap();
    assert_eq!(v["selected"], "1.1.2");
    assert_eq!(v["changed"], true);
    assert_eq!(v["strategy"]["plugin"], "strategy-semver");
    assert!(v["strategy"]["fuel"].as_u64().unwrap() > 0);
    assert_eq!(v["strategy"]["sha256"].as_str().unwrap().len(), 64);
    let rejected = v["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 6, "{rejected:?}");
    let reason = |tag: &str| {
        rejected
            .iter()
            .find(|r| r["tag"] == tag)
            .and_then(|r| r["reason"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        reason("latest").contains("not a semantic version"),
        "{}",
        reason("latest")
    );
    assert!(reason("2.0.3").contains("^1.0"), "{}", reason("2.0.3"));
    assert!(!reason("1.1.3-rc1").is_empty());
}

#[test]
fn resolve_reads_files_filters_and_deprecated_names() {
    let path = write_temp(
        "tags.json",
        br#"[{"name": "release-1", "created": "2024-01-01T00:00:00Z", "digest": "sha256:01"},
             {"name": "release-2", "created": "2024-02-01T00:00:00Z", "digest": "sha256:02"},
             {"name": "release-3", "created": "2024-03-01T00:00:00Z", "platforms": ["linux/arm64"]},
             {"name": "nightly",   "created": "2024-04-01T00:00:00Z"},
             {"name": "release-2-debug", "created": "2024-05-01T00:00:00Z"}]"#,
    );
    let out = updraft(
        &[
            "resolve",
            "--tags",
            path.to_str().unwrap(),
            "--update-strategy",
            "latest",
            "--allow-tags",
            "regexp:^release-",
            "--ignore-tags",
            "*-debug",
            "--platforms",
            "linux/amd64",
        ],
        None,
    )
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_stdout(&out).unwrap();
    assert_eq!(v["selected"], "release-2");
    assert_eq!(v["digest"], "sha256:02");
    assert_eq!(v["strategy"]["plugin"], "strategy-newest-build");
    assert_eq!(v["filters"].as_array().unwrap().len(), 2);
    let by = |tag: &str| {
        v["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tag"] == tag)
            .map(|r| r["by"].as_str().unwrap().to_string())
    };
    assert_eq!(by("nightly").as_deref(), Some("filter-regexp"));
    assert_eq!(by("release-2-debug").as_deref(), Some("filter-glob"));
    assert_eq!(by("release-3").as_deref(), Some("platforms"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deprecated"));
}

#[test]
fn resolve_with_nothing_qualifying_still_succeeds() {
    let out = updraft(&["resolve", "--tags", "-"], Some(r#"["latest", "main"]"#)).unwrap();
    assert!(out.status.success());
    let v = json_stdout(&out).unwrap();
    assert!(v["selected"].is_null());
    assert_eq!(v["changed"], false);
}

#[test]
fn resolve_with_a_third_party_plugin_and_params() {
    let wasm = updraft_tests::example_plugin("release_version");
    let out = updraft(
        &[
            "resolve",
            "--tags",
            "-",
            "--plugin",
            wasm.to_str().unwrap(),
            "--param",
            r"pattern=^release-(?P<version>.+)$",
        ],
        Some(r#"["release-1.9.0", "release-1.10.0", "release-2.0.0-rc1", "v9.9.9"]"#),
    )
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_stdout(&out).unwrap();
    assert_eq!(v["selected"], "release-1.10.0");
    assert_eq!(v["strategy"]["plugin"], "release_version.wasm");
}

#[test]
fn resolve_rejects_bad_input_with_one_clear_line() {
    let tags = Some(r#"["1.0"]"#);
    assert_error(
        &["resolve", "--tags", "-", "--allow-tags", "regexp:(unclosed"],
        tags,
        &["filter-regexp", "(unclosed"],
    );
    assert_error(
        &["resolve", "--tags", "-", "--semver-constraint", "latest"],
        tags,
        &["strategy-semver", "latest"],
    );
    assert_error(
        &["resolve", "--tags", "-"],
        Some("[\"1.0\", "),
        &["tag list", "<stdin>"],
    );
    assert_error(
        &["resolve", "--tags", "-"],
        Some(r#"[{"nam": "x"}]"#),
        &["item 0"],
    );
    assert_error(
        &["resolve", "--tags", "/nonexistent/tags.json"],
        None,
        &["/nonexistent/tags.json"],
    );
    let not_wasm = write_temp("plugin.wasm", b"#!/bin/sh\necho hi\n");
    assert_error(
        &[
            "resolve",
            "--tags",
            "-",
            "--plugin",
            not_wasm.to_str().unwrap(),
        ],
        tags,
        &["plugin.wasm", "not a WebAssembly component"],
    );
    assert_error(
        &["resolve", "--tags", "-", "--update-strategy", "bogus"],
        tags,
        &["bogus"],
    );
    assert_error(
        &["resolve", "--tags", "-", "--platforms", "linux"],
        tags,
        &["--platforms", "linux"],
    );
}

#[test]
fn plugin_inspect_and_precompile() {
    let out = updraft(&["plugin", "inspect", "strategy-newest-build"], None).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_stdout(&out).unwrap();
    assert_eq!(v["kind"], "strategy");
    assert_eq!(v["abi"], "updraft:plugin@0.1.0");
    assert_eq!(v["needs"]["created"], true);
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);

    let example = updraft_tests::example_plugin("release_version");
    let out = updraft(&["plugin", "inspect", example.to_str().unwrap()], None).unwrap();
    let v = json_stdout(&out).unwrap();
    assert_eq!(v["kind"], "strategy");

    let wasm = std::fs::read(&example).unwrap();
    let copy = write_temp("release_version.wasm", &wasm);
    let out = updraft(&["plugin", "precompile", copy.to_str().unwrap()], None).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cwasm = copy.with_extension("cwasm");
    assert!(std::fs::metadata(&cwasm).unwrap().len() > 1000);
    // A precompiled artifact is native code: never accepted as a plugin.
    assert_error(
        &["plugin", "inspect", cwasm.to_str().unwrap()],
        None,
        &["precompiled", "native code"],
    );
}
