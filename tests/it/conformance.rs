//! Built-in strategies and filters against Image Updater's own test cases
//! (registry-scanner `version_test.go`, `tag_test.go`, `options_test.go`) and
//! our edge cases, plus the third-party example plugin.

use updraft_core::Candidate;
use updraft_core::platform::Platform;
use updraft_plugin_host::{GuestErrorKind, PluginError, ResolveSpec, resolve};

use crate::support::{builtin, decide, host, names, selected};

const TAGS: &[&str] = &["0.1", "0.5.1", "0.9", "1.0", "1.0.1", "1.1.2", "2.0.3"];

#[test]
fn semver_picks_highest_satisfying_constraint() {
    let h = host();
    let s = |c: Option<&str>| selected(decide(&h, "strategy-semver", c, vec![], names(TAGS)));
    assert_eq!(s(None).as_deref(), Some("2.0.3"));
    assert_eq!(s(Some("^1.0")).as_deref(), Some("1.1.2"));
    assert_eq!(s(Some("~1.0")).as_deref(), Some("1.0.1"));
    assert_eq!(s(Some("1.x")).as_deref(), Some("1.1.2"));
    assert_eq!(s(Some(">=0.5, <1.0")).as_deref(), Some("0.9"));
    assert_eq!(s(Some("<0.5 || >=2")).as_deref(), Some("2.0.3"));
    assert_eq!(s(Some("0.1 - 0.9")).as_deref(), Some("0.9"));
    assert_eq!(s(Some("!=2.0.3")).as_deref(), Some("1.1.2"));
}

#[test]
fn semver_current_tag_does_not_matter() {
    let h = host();
    let spec = ResolveSpec {
        strategy: builtin(&h, "strategy-semver"),
        params: vec![],
        constraint: Some("^1.0".into()),
        filters: vec![],
        platforms: vec![],
        current: Some("latest".into()),
    };
    let r = resolve(&spec, names(TAGS)).unwrap();
    assert_eq!(r.selected.as_deref(), Some("1.1.2"));
    assert!(r.changed);
}

#[test]
fn semver_nothing_satisfies_is_none_not_error() {
    let h = host();
    let r = decide(
        &h,
        "strategy-semver",
        Some("~1.0"),
        vec![],
        names(&["0.1", "0.5.1", "0.9", "2.0.3"]),
    )
    .unwrap();
    assert_eq!(r.selected, None);
    assert_eq!(r.rejected.len(), 4);
    assert!(
        r.rejected.iter().all(|x| x.reason.contains("~1.0")),
        "{:?}",
        r.rejected
    );
}

#[test]
fn semver_invalid_constraint_is_an_error_naming_it() {
    let h = host();
    let e = decide(&h, "strategy-semver", Some("latest"), vec![], names(TAGS)).unwrap_err();
    match &e {
        PluginError::Guest { kind, message, .. } => {
            assert_eq!(*kind, GuestErrorKind::InvalidConfig);
            assert!(message.contains("latest"), "{message}");
        }
        other => panic!("expected a guest error, got {other}"),
    }
}

#[test]
fn semver_excludes_prereleases_unless_constraint_has_one() {
    let h = host();
    let tags = names(&["v2.2.0", "v2.3.0-rc.0.18.g1abb7b5dd-ppc64le"]);
    let r = decide(&h, "strategy-semver", None, vec![], tags.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("v2.2.0"));
    let r = decide(&h, "strategy-semver", Some(">=2.3.0-0"), vec![], tags).unwrap();
    assert_eq!(
        r.selected.as_deref(),
        Some("v2.3.0-rc.0.18.g1abb7b5dd-ppc64le")
    );
}

#[test]
fn semver_ties_break_lexically() {
    let h = host();
    let s = |t: &[&str]| selected(decide(&h, "strategy-semver", None, vec![], names(t)));
    // tag_test.go order: v1.0, v1.0.1, v2.0, v2.0.0, v2.0.2, v2.0.3
    assert_eq!(
        s(&["v2.0.2", "v1.0", "v2.0.0", "v1.0.1", "v2.0.3", "v2.0"]).as_deref(),
        Some("v2.0.3")
    );
    assert_eq!(s(&["v2.0.0", "v2.0"]).as_deref(), Some("v2.0.0"));
    assert_eq!(s(&["1.20.0", "1.20"]).as_deref(), Some("1.20.0"));
}

#[test]
fn semver_ignores_non_semver_tags() {
    let h = host();
    let r = decide(
        &h,
        "strategy-semver",
        None,
        vec![],
        names(&["zz", "bb", "yy", "latest"]),
    )
    .unwrap();
    assert_eq!(r.selected, None);
    assert!(r.rejected.iter().all(|x| x.by == "strategy-semver"));
}

fn dated(tags: &[(&str, i64)]) -> Vec<Candidate> {
    tags.iter()
        .map(|(n, secs)| Candidate {
            created: Some(secs * 1_000_000_000),
            ..Candidate::named(*n)
        })
        .collect()
}

#[test]
fn newest_build_picks_most_recent_build() {
    let h = host();
    // version_test.go: zz,bb,yy,cc,yy,aa,ll at 0,5,...,30 s; the duplicate yy
    // keeps its later date (the tag list parser keeps the later entry).
    let tags = dated(&[
        ("zz", 0),
        ("bb", 5),
        ("cc", 15),
        ("yy", 20),
        ("aa", 25),
        ("ll", 30),
    ]);
    let r = decide(&h, "strategy-newest-build", None, vec![], tags).unwrap();
    assert_eq!(r.selected.as_deref(), Some("ll"));
}

#[test]
fn newest_build_ties_break_by_name_and_unknown_dates_are_rejected() {
    let h = host();
    let mut tags = dated(&[("b", 10), ("c", 10), ("a", 10)]);
    tags.push(Candidate::named("zzz"));
    let r = decide(&h, "strategy-newest-build", None, vec![], tags).unwrap();
    assert_eq!(r.selected.as_deref(), Some("c"));
    let zzz = r.rejected.iter().find(|x| x.tag == "zzz").unwrap();
    assert!(zzz.reason.contains("build time"), "{}", zzz.reason);
}

#[test]
fn newest_build_honours_platforms() {
    let h = host();
    let mut amd = dated(&[("old", 1)]);
    amd[0].platforms = vec!["linux/amd64".into()];
    let mut arm = dated(&[("new", 2)]);
    arm[0].platforms = vec!["linux/arm64".into()];
    let mut v7 = dated(&[("v7", 3)]);
    v7[0].platforms = vec!["linux/arm/v7".into()];
    let spec = |platforms: &[&str]| ResolveSpec {
        strategy: builtin(&h, "strategy-newest-build"),
        params: vec![],
        constraint: None,
        filters: vec![],
        platforms: platforms
            .iter()
            .map(|p| Platform::parse(p).unwrap())
            .collect(),
        current: None,
    };
    let all: Vec<Candidate> = amd.into_iter().chain(arm).chain(v7).collect();
    let r = resolve(&spec(&["linux/amd64"]), all.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("old"));
    assert!(
        r.rejected
            .iter()
            .any(|x| x.tag == "new" && x.by == "platforms")
    );
    let r = resolve(&spec(&["linux/arm64"]), all.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("new"));
    // linux/arm without a variant matches linux/arm/v7.
    let r = resolve(&spec(&["linux/arm"]), all.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("v7"));
    let r = resolve(&spec(&[]), all).unwrap();
    assert_eq!(r.selected.as_deref(), Some("v7"));
}

#[test]
fn alphabetical_picks_lexically_last() {
    let h = host();
    let s = |t: &[&str]| selected(decide(&h, "strategy-alphabetical", None, vec![], names(t)));
    assert_eq!(
        s(&["zz", "bb", "yy", "cc", "aa", "ll"]).as_deref(),
        Some("zz")
    );
    assert_eq!(
        s(&["wohoo", "bazar", "alpha", "jesus", "zebra"]).as_deref(),
        Some("zebra")
    );
    // byte-wise: uppercase sorts before lowercase, "10" before "9".
    assert_eq!(s(&["Z", "a"]).as_deref(), Some("a"));
    assert_eq!(s(&["9", "10"]).as_deref(), Some("9"));
    assert_eq!(s(&[]), None);
}

#[test]
fn digest_watches_the_constraint_tag() {
    let h = host();
    let d = "sha256:".to_string() + &"ab".repeat(32);
    let tags = vec![
        Candidate {
            digest: Some(d.clone()),
            ..Candidate::named("latest")
        },
        Candidate {
            digest: Some("sha256:".to_string() + &"cd".repeat(32)),
            ..Candidate::named("stable")
        },
    ];
    let r = decide(&h, "strategy-digest", Some("latest"), vec![], tags.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("latest"));
    assert_eq!(r.digest.as_deref(), Some(d.as_str()));
    let e = decide(&h, "strategy-digest", None, vec![], tags).unwrap_err();
    assert!(
        matches!(
            e,
            PluginError::Guest {
                kind: GuestErrorKind::InvalidConfig,
                ..
            }
        ),
        "{e}"
    );
    // The watched tag without a known digest cannot be chosen.
    let r = decide(
        &h,
        "strategy-digest",
        Some("latest"),
        vec![],
        names(&["latest"]),
    )
    .unwrap();
    assert_eq!(r.selected, None);
}

#[test]
fn ignore_tags_globs() {
    let h = host();
    let run = |patterns: &[&str], tags: &[&str]| {
        let params: Vec<(&str, &str)> = patterns.iter().map(|p| ("pattern", *p)).collect();
        decide(
            &h,
            "strategy-alphabetical",
            None,
            vec![("filter-glob", params)],
            names(tags),
        )
        .unwrap()
    };
    let r = run(&["tag1", "tag2"], &["tag1", "tag2", "tag3"]);
    assert_eq!(r.selected.as_deref(), Some("tag3"));
    assert_eq!(
        r.rejected.iter().filter(|x| x.by == "filter-glob").count(),
        2
    );
    let r = run(&["tag?", "foo"], &["tag1", "foo", "tag10"]);
    assert_eq!(r.selected.as_deref(), Some("tag10"));
    let r = run(&["*"], &["a", "b"]);
    assert_eq!(r.selected, None);
    let r = run(&["v[0-1].*", "[^v]*"], &["v1.0", "v2.0", "x3"]);
    assert_eq!(r.selected.as_deref(), Some("v2.0"));
}

#[test]
fn allow_tags_regexp_is_unanchored() {
    let h = host();
    let run = |expr: &str| {
        decide(
            &h,
            "strategy-alphabetical",
            None,
            vec![("filter-regexp", vec![("expression", expr)])],
            names(&["release-1.0", "pre-release-2.0", "v3", "zz-release"]),
        )
    };
    assert_eq!(
        selected(run("regexp:^release-")).as_deref(),
        Some("release-1.0")
    );
    assert_eq!(
        selected(run("regexp:release")).as_deref(),
        Some("zz-release")
    );
    assert_eq!(selected(run("any")).as_deref(), Some("zz-release"));
    let e = run("regexp:([a-z").unwrap_err();
    assert!(
        matches!(
            e,
            PluginError::Guest {
                kind: GuestErrorKind::InvalidConfig,
                ..
            }
        ),
        "{e}"
    );
    let e = run("glob:*").unwrap_err();
    assert!(e.to_string().contains("glob"), "{e}");
}

#[test]
fn example_release_version_plugin_orders_prefixed_versions() {
    let h = host();
    let wasm = std::fs::read(updraft_tests::example_plugin("release_version")).unwrap();
    let plugin = h.load("release_version.wasm", &wasm).unwrap();
    let tags = names(&[
        "release-1.9.0",
        "release-1.10.0",
        "release-2.0.0-rc1",
        "latest",
    ]);
    let spec = |constraint: Option<&str>| ResolveSpec {
        strategy: plugin.clone(),
        params: vec![],
        constraint: constraint.map(str::to_string),
        filters: vec![],
        platforms: vec![],
        current: Some("release-1.9.0".into()),
    };
    let r = resolve(&spec(None), tags.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("release-1.10.0"));
    assert!(r.changed);
    let r = resolve(&spec(Some(">=2.0.0-0")), tags.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("release-2.0.0-rc1"));
    let r = resolve(&spec(Some("~1.9")), tags.clone()).unwrap();
    assert_eq!(r.selected.as_deref(), Some("release-1.9.0"));
    assert!(!r.changed);
    // The built-in semver strategy cannot read these tags at all.
    let r = decide(&h, "strategy-semver", None, vec![], tags).unwrap();
    assert_eq!(r.selected, None);
}
