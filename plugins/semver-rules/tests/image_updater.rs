//! Image Updater's strategy and sorting tables (version_test.go, tag_test.go) for the `semver` strategy.

use std::time::Instant;

use semver_rules::{RejectionKind, Version, select};

const TAGS: [&str; 7] = ["0.1", "0.5.1", "0.9", "1.0", "1.0.1", "1.1.2", "2.0.3"];

fn pick<'a>(constraint: Option<&str>, tags: &[&'a str]) -> Option<&'a str> {
    match select(constraint, tags.iter().copied()) {
        Ok(selection) => selection.tag,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn latest_version_without_constraint() {
    assert_eq!(pick(None, &TAGS), Some("2.0.3"));
    assert_eq!(pick(Some(""), &TAGS), Some("2.0.3"));
    assert_eq!(pick(Some("  "), &TAGS), Some("2.0.3"));
}

#[test]
fn constraint_on_major() {
    assert_eq!(pick(Some("^1.0"), &TAGS), Some("1.1.2"));
}

#[test]
fn constraint_on_patch() {
    assert_eq!(pick(Some("~1.0"), &TAGS), Some("1.0.1"));
}

#[test]
fn constraint_without_match_is_no_selection_not_an_error() {
    let tags = ["0.1", "0.5.1", "0.9", "2.0.3"];
    let selection = select(Some("~1.0"), tags.into_iter()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selection.tag, None);
    assert_eq!(selection.rejected.len(), 4);
    assert_eq!(selection.summary(), "no candidate satisfies '~1.0'");
}

#[test]
fn no_candidates() {
    let selection = select(Some("^1"), std::iter::empty()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selection.tag, None);
    assert_eq!(selection.summary(), "no candidates");
}

#[test]
fn invalid_constraint_is_an_error() {
    let err = select(Some("latest"), TAGS.into_iter()).err();
    let err = err.unwrap_or_else(|| panic!("'latest' accepted"));
    assert_eq!(err.constraint, "latest");
    assert!(err.to_string().contains("'latest'"), "{err}");
}

#[test]
fn prereleases_are_excluded_without_a_prerelease_constraint() {
    let tags = ["v2.2.0", "v2.3.0-rc.0.18.g1abb7b5dd-ppc64le"];
    let selection = select(None, tags.into_iter()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selection.tag, Some("v2.2.0"));
    assert_eq!(selection.rejected.len(), 1);
    assert_eq!(selection.rejected[0].kind, RejectionKind::Prerelease);
    assert_eq!(
        selection.reason(&selection.rejected[0]),
        "pre-release, which constraint '*' does not admit"
    );
    assert_eq!(
        pick(Some(">=2.0.0-0"), &tags),
        Some("v2.3.0-rc.0.18.g1abb7b5dd-ppc64le")
    );
}

#[test]
fn non_semver_tags_select_nothing() {
    let tags = ["zz", "bb", "yy", "cc", "yy", "aa", "ll"];
    let selection = select(None, tags.into_iter()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selection.tag, None);
    assert!(
        selection
            .rejected
            .iter()
            .all(|r| r.kind == RejectionKind::NotSemver)
    );
    assert_eq!(
        selection.reason(&selection.rejected[0]),
        "not a semantic version"
    );
    assert_eq!(selection.summary(), "no candidate is a semantic version");
}

/// tag_test.go `Test_SortBySemVer`: ascending by version, ties by the string.
#[test]
fn sort_by_semver_with_lexical_ties() {
    let mut tags = ["v2.0.2", "v1.0", "v2.0.0", "v1.0.1", "v2.0.3", "v2.0"];
    tags.sort_by(|a, b| {
        let (va, vb) = (Version::parse(a), Version::parse(b));
        match (va, vb) {
            (Ok(va), Ok(vb)) => va.cmp(&vb).then_with(|| a.cmp(b)),
            _ => panic!("unparsable"),
        }
    });
    assert_eq!(
        tags,
        ["v1.0", "v1.0.1", "v2.0", "v2.0.0", "v2.0.2", "v2.0.3"]
    );
    // The last one wins; of equal versions, the lexically greatest.
    assert_eq!(pick(None, &["v2.0", "v2.0.0"]), Some("v2.0.0"));
    assert_eq!(pick(None, &["v2.0.0", "v2.0"]), Some("v2.0.0"));
    assert_eq!(
        pick(None, &["1.0.0+b", "1.0.0+a", "1.0.0"]),
        Some("1.0.0+b")
    );
}

#[test]
fn rejections_name_the_constraint_and_keep_input_order() {
    let tags = ["1.0.0", "latest", "2.0.0", "1.5.0-rc.1", "1.4.0"];
    let selection = select(Some("^1.0"), tags.into_iter()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selection.tag, Some("1.4.0"));
    assert_eq!(selection.summary(), "highest version satisfying '^1.0'");
    let reasons: Vec<(&str, String)> = selection
        .rejected
        .iter()
        .map(|r| (r.tag, selection.reason(r)))
        .collect();
    assert_eq!(
        reasons,
        [
            ("latest", "not a semantic version".to_owned()),
            ("2.0.0", "does not satisfy constraint '^1.0'".to_owned()),
            (
                "1.5.0-rc.1",
                "pre-release, which constraint '^1.0' does not admit".to_owned()
            ),
        ]
    );
}

#[test]
fn weird_tags_never_panic() {
    let tags = [
        "",
        "v",
        "-",
        ".",
        "..",
        "1..",
        "\u{0}",
        "ü",
        "1.2.3-\u{1F600}",
        "99999999999999999999.1",
        "1.2.3-99999999999999999999",
        "v1.2.3+",
        "1.2.3-a.b.c.d.e.f.g.h.i.j.k",
    ];
    let selection = select(Some(">=0.0.0-0"), tags.into_iter()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selection.tag, Some("1.2.3-a.b.c.d.e.f.g.h.i.j.k"));
    for garbage in [
        "\u{0}",
        "||",
        "ü",
        "1 - ",
        " - 2",
        "~~1",
        "^",
        "1.2.3 - - 2",
        "v1 -  ^2",
    ] {
        assert!(
            select(Some(garbage), tags.into_iter()).is_err(),
            "{garbage:?}"
        );
    }
}

#[test]
fn ten_thousand_tags_in_one_pass() {
    let tags: Vec<String> = (0..10_000)
        .map(|i| match i % 4 {
            0 => format!("{}.{}.{}", i % 7, i % 13, i),
            1 => format!("v{}.{}", i % 5, i % 11),
            2 => format!("{}.{}.{}-rc.{}", i % 3, i % 9, i, i % 4),
            _ => format!("build-{i}"),
        })
        .collect();
    let start = Instant::now();
    let selection = select(Some(">=1.0, <6"), tags.iter().map(String::as_str))
        .unwrap_or_else(|e| panic!("{e}"));
    let elapsed = start.elapsed();
    let expected = (0..10_000)
        .filter(|i| i % 4 == 0 && (1..6).contains(&(i % 7)))
        .map(|i| (i % 7, i % 13, i))
        .max()
        .map(|(major, minor, patch)| format!("{major}.{minor}.{patch}"));
    assert_eq!(selection.tag.map(str::to_owned), expected);
    // Debug builds are far slower than the < 1 ms release figure; this only
    // guards against accidental quadratic behaviour.
    assert!(elapsed.as_millis() < 200, "took {elapsed:?}");
}
