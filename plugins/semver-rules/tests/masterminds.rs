//! Masterminds/semver v3.4 test tables (constraints_test.go, version_test.go, README) replayed against the port.

use std::cmp::Ordering;

use semver_rules::{Constraint, Version};

fn version(text: &str) -> Version<'_> {
    Version::parse(text).unwrap_or_else(|e| panic!("version {text:?}: {e}"))
}

fn constraint(text: &str) -> Constraint {
    Constraint::parse(text).unwrap_or_else(|e| panic!("constraint {text:?}: {e}"))
}

fn assert_checks(cases: &[(&str, &str, bool)], include_prereleases: bool) {
    let mut failures = Vec::new();
    for &(c, v, expected) in cases {
        let parsed = constraint(c);
        let v = version(v);
        let got = if include_prereleases {
            parsed.matches_including_prereleases(&v)
        } else {
            parsed.matches(&v)
        };
        if got != expected {
            failures.push(format!("{c:?} vs {v}: expected {expected}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `TestNewVersion`.
#[test]
fn new_version() {
    let cases = [
        ("1.2.3", true),
        ("1.2.3-alpha.01", false),
        ("1.2.3+test.01", true),
        ("1.2.3-alpha.-1", true),
        ("v1.2.3", true),
        ("1.0", true),
        ("v1.0", true),
        ("1", true),
        ("v1", true),
        ("1.2.beta", false),
        ("v1.2.beta", false),
        ("foo", false),
        ("1.2-5", true),
        ("v1.2-5", true),
        ("1.2-beta.5", true),
        ("v1.2-beta.5", true),
        ("\n1.2", false),
        ("\nv1.2", false),
        ("1.2.0-x.Y.0+metadata", true),
        ("v1.2.0-x.Y.0+metadata", true),
        ("1.2.0-x.Y.0+metadata-width-hypen", true),
        ("v1.2.0-x.Y.0+metadata-width-hypen", true),
        ("1.2.3-rc1-with-hypen", true),
        ("v1.2.3-rc1-with-hypen", true),
        ("1.2.3.4", false),
        ("v1.2.3.4", false),
        ("1.2.2147483648", true),
        ("1.2147483648.3", true),
        ("2147483648.3.0", true),
        ("12.3.4.1234", false),
        ("12.23.4.1234", false),
        ("12.3.34.1234", false),
        ("20221209-update-renovatejson-v4", true),
        // CoerceNewVersion (v3.4 default): leading zeros are accepted.
        ("01.02.03", true),
    ];
    for (text, ok) in cases {
        assert_eq!(Version::parse(text).is_ok(), ok, "{text:?}");
    }
}

/// `TestCoerceString`.
#[test]
fn coerce_string() {
    let cases = [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("1.0", "1.0.0"),
        ("v1.0", "1.0.0"),
        ("1", "1.0.0"),
        ("v1", "1.0.0"),
        ("1.2-5", "1.2.0-5"),
        ("v1.2-5", "1.2.0-5"),
        ("1.2-beta.5", "1.2.0-beta.5"),
        ("v1.2-beta.5", "1.2.0-beta.5"),
        ("1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
        ("v1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
        ("1.2.3-rc1-with-hypen", "1.2.3-rc1-with-hypen"),
    ];
    for (text, canonical) in cases {
        assert_eq!(version(text).to_string(), canonical, "{text:?}");
    }
    let v = version("1.2.3-beta.1+build.123");
    assert_eq!((v.major, v.minor, v.patch), (1, 2, 3));
    assert_eq!((v.pre, v.build), ("beta.1", "build.123"));
}

/// `TestCompare`, `TestGreaterThan`, `TestEqual`.
#[test]
fn compare() {
    let cases = [
        ("1.2.3", "1.5.1", Ordering::Less),
        ("2.2.3", "1.5.1", Ordering::Greater),
        ("2.2.3", "2.2.2", Ordering::Greater),
        ("3.2-beta", "3.2-beta", Ordering::Equal),
        ("1.3", "1.1.4", Ordering::Greater),
        ("4.2", "4.2-beta", Ordering::Greater),
        ("4.2-beta", "4.2", Ordering::Less),
        ("4.2-alpha", "4.2-beta", Ordering::Less),
        ("4.2-alpha", "4.2-alpha", Ordering::Equal),
        ("4.2-beta.2", "4.2-beta.1", Ordering::Greater),
        ("4.2-beta2", "4.2-beta1", Ordering::Greater),
        ("4.2-beta", "4.2-beta.2", Ordering::Less),
        ("4.2-beta", "4.2-beta.foo", Ordering::Less),
        ("4.2-beta.2", "4.2-beta", Ordering::Greater),
        ("4.2-beta.foo", "4.2-beta", Ordering::Greater),
        ("1.2+bar", "1.2+baz", Ordering::Equal),
        ("1.0.0-beta.4", "1.0.0-beta.-2", Ordering::Less),
        ("1.0.0-beta.-2", "1.0.0-beta.-3", Ordering::Less),
        ("1.0.0-beta.-3", "1.0.0-beta.5", Ordering::Greater),
        ("3.2.0-beta.1", "3.2.0-beta.5", Ordering::Less),
        ("3.2-beta.4", "3.2-beta.2", Ordering::Greater),
        ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.103", Ordering::Less),
        (
            "7.43.0-SNAPSHOT.FOO",
            "7.43.0-SNAPSHOT.103",
            Ordering::Greater,
        ),
        ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.BAR", Ordering::Less),
        ("3.2-beta+foo", "3.2-beta+bar", Ordering::Equal),
    ];
    for (a, b, expected) in cases {
        assert_eq!(version(a).cmp(&version(b)), expected, "{a} vs {b}");
    }
}

/// `TestParseConstraint` (which operator and which base version).
#[test]
fn parse_constraint() {
    for good in [
        ">= 1.2",
        "1.0",
        "<= 1.2",
        "=< 1.2",
        "=> 1.2",
        "v1.2",
        "=1.5",
        "> 1.3",
        "< 1.4.1",
        "< 40.50.10",
        "~> 1.2",
        "^ 1.2",
        "x",
        "X",
        "*",
        "1.x.x",
        "v1.2.3-beta.1+build",
    ] {
        assert!(Constraint::parse(good).is_ok(), "{good:?}");
    }
    for bad in [
        "foo", "latest", "v", "1.2.3.4", ">", "1 ||", "|| 1", "1,", ",1", "1,,2", "! 1",
    ] {
        assert!(Constraint::parse(bad).is_err(), "{bad:?}");
    }
}

/// `TestNewConstraint` (which texts parse).
#[test]
fn new_constraint() {
    let cases = [
        (">= 1.1", true),
        (">40.50.60, < 50.70", true),
        ("2.0", true),
        ("v2.3.5-20161202202307-sha.e8fc5e5", true),
        (">= bar", false),
        ("BAR >= 1.2.3", false),
        (">= 1.2.3 < 2.0", true),
        (">= 1.2.3 < 2.0 || => 3.0 < 4", true),
        (">= 1.2.3, < 2.0", true),
        (">= 1.2.3, < 2.0 || => 3.0, < 4", true),
        ("3 - 4 || => 3.0, < 4", true),
        ("12.3.4.1234", false),
        ("12.23.4.1234", false),
        ("12.3.34.1234", false),
        ("12.3.34 ~1.2.3", true),
        ("12.3.34~ 1.2.3", false),
        ("1.0.0 - 2.0.0, <=2.0.0", true),
        // Parts that match the pattern but are not numbers.
        ("1x.2", false),
        ("1.2|3", false),
        ("1.0.0-01", false),
        ("2.x-01", false),
        // A hyphen range must not follow another comparison separated only by
        // spaces (rewriteRange swallows the space); a comma is fine.
        ("<3 1.0 - 2.0", false),
        ("<3, 1.0 - 2.0", true),
        ("1.0 - 2.0 <3", true),
    ];
    for (text, ok) in cases {
        assert_eq!(Constraint::parse(text).is_ok(), ok, "{text:?}");
    }
}

/// `TestConstraintCheck` (single comparisons).
#[test]
fn constraint_check() {
    assert_checks(
        &[
            ("=2.0.0", "1.2.3", false),
            ("=2.0.0", "2.0.0", true),
            ("=2.0", "1.2.3", false),
            ("=2.0", "2.0.0", true),
            ("=2.0", "2.0.1", true),
            ("4.1", "4.1.0", true),
            ("!=4.1.0", "4.1.0", false),
            ("!=4.1.0", "4.1.1", true),
            ("!=4.1", "4.1.0", false),
            ("!=4.1", "4.1.1", false),
            ("!=4.1", "5.1.0-alpha.1", false),
            ("!=4.1.0", "5.1.0-alpha.1", false),
            ("!=4.1-alpha", "4.1.0", true),
            ("!=4.1", "5.1.0", true),
            ("<11", "0.1.0", true),
            ("<11", "11.1.0", false),
            ("<1.1", "0.1.0", true),
            ("<1.1", "1.1.0", false),
            ("<1.1", "1.1.1", false),
            ("<=11", "1.2.3", true),
            ("<=11", "12.2.3", false),
            ("<=11", "11.2.3", true),
            ("<=1.1", "1.2.3", false),
            ("<=1.1", "0.1.0", true),
            ("<=1.1", "1.1.0", true),
            ("<=1.1", "1.1.1", true),
            (">1.1", "4.1.0", true),
            (">1.1", "1.1.0", false),
            (">0", "0", false),
            (">0", "1", true),
            (">0", "0.0.1-alpha", false),
            (">0.0", "0.0.1-alpha", false),
            (">0-0", "0.0.1-alpha", false),
            (">0.0-0", "0.0.1-alpha", false),
            (">0", "0.0.0-alpha", false),
            (">0-0", "0.0.0-alpha", false),
            (">0.0.0-0", "0.0.0-alpha", true),
            (">1.2.3-alpha.1", "1.2.3-alpha.2", true),
            (">1.2.3-alpha.1", "1.3.3-alpha.2", true),
            (">11", "11.1.0", false),
            (">11.1", "11.1.0", false),
            (">11.1", "11.1.1", false),
            (">11.1", "11.2.1", true),
            (">=11", "11.1.2", true),
            (">=11.1", "11.1.2", true),
            (">=11.1", "11.0.2", false),
            (">=1.1", "4.1.0", true),
            (">=1.1", "1.1.0", true),
            (">=1.1", "0.0.9", false),
            (">=0", "0.0.1-alpha", false),
            (">=0.0", "0.0.1-alpha", false),
            (">=0-0", "0.0.1-alpha", true),
            (">=0.0-0", "0.0.1-alpha", true),
            (">=0", "0.0.0-alpha", false),
            (">=0-0", "0.0.0-alpha", true),
            (">=0.0.0-0", "0.0.0-alpha", true),
            (">=0.0.0-0", "1.2.3", true),
            (">=0.0.0-0", "3.4.5-beta.1", true),
            ("<0", "0.0.0-alpha", false),
            ("<0-z", "0.0.0-alpha", true),
            (">=0", "0", true),
            ("=0", "1", false),
            ("*", "1", true),
            ("*", "4.5.6", true),
            ("*", "1.2.3-alpha.1", false),
            ("*-0", "1.2.3-alpha.1", true),
            ("2.*", "1", false),
            ("2.*", "3.4.5", false),
            ("2.*", "2.1.1", true),
            ("2.1.*", "2.1.1", true),
            ("2.1.*", "2.2.1", false),
            ("", "1", true),
            ("", "4.5.6", true),
            ("", "1.2.3-alpha.1", false),
            ("2", "1", false),
            ("2", "3.4.5", false),
            ("2", "2.1.1", true),
            ("2.1", "2.1.1", true),
            ("2.1", "2.2.1", false),
            ("~1.2.3", "1.2.4", true),
            ("~1.2.3", "1.3.4", false),
            ("~1.2", "1.2.4", true),
            ("~1.2", "1.3.4", false),
            ("~1", "1.2.4", true),
            ("~1", "2.3.4", false),
            ("~0.2.3", "0.2.5", true),
            ("~0.2.3", "0.3.5", false),
            ("~1.2.3-beta.2", "1.2.3-beta.4", true),
            // Unlike npm, a pre-release comparison admits pre-releases of other
            // patch versions inside the range.
            ("~1.2.3-beta.2", "1.2.4-beta.2", true),
            ("~1.2.3-beta.2", "1.3.4-beta.2", false),
            ("^1.2.3", "1.8.9", true),
            ("^1.2.3", "2.8.9", false),
            ("^1.2.3", "1.2.1", false),
            ("^1.1.0", "2.1.0", false),
            ("^1.2.0", "2.2.1", false),
            ("^1.2.0", "1.2.1-alpha.1", false),
            ("^1.2.0-alpha.0", "1.2.1-alpha.1", true),
            ("^1.2.0-alpha.0", "1.2.1-alpha.0", true),
            ("^1.2.0-alpha.2", "1.2.0-alpha.1", false),
            ("^1.2", "1.8.9", true),
            ("^1.2", "2.8.9", false),
            ("^1", "1.8.9", true),
            ("^1", "2.8.9", false),
            ("^0.2.3", "0.2.5", true),
            ("^0.2.3", "0.5.6", false),
            ("^0.2", "0.2.5", true),
            ("^0.2", "0.5.6", false),
            ("^0.0.3", "0.0.3", true),
            ("^0.0.3", "0.0.4", false),
            ("^0.0", "0.0.3", true),
            ("^0.0", "0.1.4", false),
            ("^0.0", "1.0.4", false),
            ("^0", "0.2.3", true),
            ("^0", "1.1.4", false),
            ("^0.2.3-beta.2", "0.2.3-beta.4", true),
            ("^0.2.3-beta.2", "0.2.4-beta.2", true),
            ("^0.2.3-beta.2", "0.3.4-beta.2", false),
            ("^0.2.3-beta.2", "0.2.3-beta.2", true),
        ],
        false,
    );
}

/// `TestConstraintsCheck` (AND/OR groups, ranges, wildcards).
const CONSTRAINTS_CHECK: &[(&str, &str, bool)] = &[
    ("*", "1.2.3", true),
    ("~0.0.0", "1.2.3", true),
    ("0.x.x", "1.2.3", false),
    ("0.0.x", "1.2.3", false),
    ("0.0.0", "1.2.3", false),
    ("^0.0.0", "1.2.3", false),
    ("= 2.0", "1.2.3", false),
    ("= 2.0", "2.0.0", true),
    ("4.1", "4.1.0", true),
    ("4.1.x", "4.1.3", true),
    ("1.x", "1.4", true),
    ("!=4.1", "4.1.0", false),
    ("!=4.1-alpha", "4.1.0-alpha", false),
    ("!=4.1-alpha", "4.1.1-alpha", false),
    ("!=4.1-alpha", "4.1.0", true),
    ("!=4.1", "5.1.0", true),
    ("!=4.x", "5.1.0", true),
    ("!=4.x", "4.1.0", false),
    ("!=4.1.x", "4.2.0", true),
    ("!=4.2.x", "4.2.3", false),
    (">1.1", "4.1.0", true),
    (">1.1", "1.1.0", false),
    ("<1.1", "0.1.0", true),
    ("<1.1", "1.1.0", false),
    ("<1.1", "1.1.1", false),
    ("<1.x", "1.1.1", false),
    ("<1.x", "0.1.1", true),
    ("<1.x", "2.0.0", false),
    ("<1.1.x", "1.2.1", false),
    ("<1.1.x", "1.1.500", false),
    ("<1.1.x", "1.0.500", true),
    ("<1.2.x", "1.1.1", true),
    (">=1.1", "4.1.0", true),
    (">=1.1", "4.1.0-beta", false),
    (">=1.1", "1.1.0", true),
    (">=1.1", "0.0.9", false),
    ("<=1.1", "0.1.0", true),
    ("<=1.1", "0.1.0-alpha", false),
    ("<=1.1-a", "0.1.0-alpha", true),
    ("<=1.1", "1.1.0", true),
    ("<=1.x", "1.1.0", true),
    ("<=2.x", "3.0.0", false),
    ("<=1.1", "1.1.1", true),
    ("<=1.1.x", "1.2.500", false),
    ("<=4.5", "3.4.0", true),
    ("<=4.5", "3.7.0", true),
    ("<=4.5", "4.6.3", false),
    (">1.1, <2", "1.1.1", false),
    (">1.1, <2", "1.2.1", true),
    (">1.1, <3", "4.3.2", false),
    (">=1.1, <2, !=1.2.3", "1.2.3", false),
    (">1.1 <2", "1.1.1", false),
    (">1.1 <2", "1.2.1", true),
    (">1.1    <3", "4.3.2", false),
    (">=1.1    <2    !=1.2.3", "1.2.3", false),
    (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
    (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
    (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
    (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
    (">=1.1 <2 !=1.2.3", "1.2.3", false),
    (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", true),
    (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", false),
    (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", true),
    (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", false),
    ("> 1.1, <     2", "1.1.1", false),
    (">   1.1, <2", "1.2.1", true),
    (">1.1, <  3", "4.3.2", false),
    (">= 1.1, <     2, !=1.2.3", "1.2.3", false),
    ("> 1.1 < 2", "1.1.1", false),
    (">1.1 < 2", "1.2.1", true),
    ("> 1.1    <3", "4.3.2", false),
    (">=1.1    < 2    != 1.2.3", "1.2.3", false),
    (">= 1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
    (">= 1.1, <2, != 1.2.3 || > 3", "3.1.2", false),
    (">= 1.1, <2, != 1.2.3 || >= 3", "3.0.0", true),
    (">= 1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
    (">= 1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
    (">= 1.1 <2 != 1.2.3", "1.2.3", false),
    (">= 1.1 <2 != 1.2.3 || > 3", "4.1.2", true),
    (">= 1.1 <2 != 1.2.3 || > 3", "3.1.2", false),
    (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true),
    (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
    (">=1.1 < 2 !=1.2.3 || > 3", "1.2.3", false),
    (">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta", "1.0.1", true),
    (">= 1.0.0  <= 2.0.0-beta", "3.0.0", false),
    (">= 1.0.0  <= 2.0.0-beta || > 3", "1.0.1-beta", true),
    (">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false),
    (
        ">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3",
        "1.0.1-beta",
        true,
    ),
    (
        ">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3",
        "1.0.1-beta",
        false,
    ),
    (">= 1.0.0-0  <= 2.0.0", "1.0.1-beta", true),
    ("1.1 - 2", "1.1.1", true),
    ("1.5.0 - 4.5", "3.7.0", true),
    ("1.1-3", "4.3.2", false),
    ("^1.1", "1.1.1", true),
    ("^1.1", "4.3.2", false),
    ("^1.x", "1.1.1", true),
    ("^2.x", "1.1.1", false),
    ("^1.x", "2.1.1", false),
    ("^1.x", "1.1.1-beta1", false),
    ("^1.1.2-alpha", "1.2.1-beta1", true),
    ("^1.2.x-alpha", "1.1.1-beta1", false),
    ("^0.0.1", "0.0.1", true),
    ("^0.0.1", "0.3.1", false),
    ("~*", "2.1.1", true),
    ("~1", "2.1.1", false),
    ("~1", "1.3.5", true),
    ("~1", "1.4", true),
    ("~1.x", "2.1.1", false),
    ("~1.x", "1.3.5", true),
    ("~1.x", "1.4", true),
    ("~1.1", "1.1.1", true),
    ("~1.1", "1.1.1-alpha", false),
    ("~1.1-alpha", "1.1.1-beta", true),
    ("~1.1.1-beta", "1.1.1-alpha", false),
    ("~1.1.1-beta", "1.1.1", true),
    ("~1.2.3", "1.2.5", true),
    ("~1.2.3", "1.2.2", false),
    ("~1.2.3", "1.3.2", false),
    ("~1.1", "1.2.3", false),
    ("~1.3", "2.4.5", false),
    ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true),
    ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true),
    // TestConstraintsValidate's extra rows.
    ("<2.x", "1.1.1", true),
    ("<=2.x", "3.1.0", false),
    ("^1.1", "1.1.1-alpha", false),
    ("^1.1.1-alpha", "1.1.1-beta", true),
    ("^1.1.1-beta", "1.1.1-alpha", false),
    ("^0.0.1", "0.1.3", false),
    ("~1", "1.3.5-beta", false),
    ("~1.x", "1.3.5-beta", false),
    ("~1.3.6-alpha", "1.3.5-beta", false),
    ("~1.3.5-alpha", "1.3.5-beta", true),
    ("~1.3.5-beta", "1.3.5-alpha", false),
];

#[test]
fn constraints_check() {
    assert_checks(CONSTRAINTS_CHECK, false);
}

/// `TestConstraintsCheckIncludePrerelease`: rows that flip with
/// `IncludePrerelease = true`; all the others keep their answer.
#[test]
fn constraints_check_include_prerelease() {
    let flipped = [
        (">=1.1", "4.1.0-beta"),
        (">1.1", "4.1.0-beta"),
        ("<=1.1", "0.1.0-alpha"),
        ("<1.1", "0.1.0-alpha"),
        ("^1.x", "1.1.1-beta1"),
        ("~1.1", "1.1.1-alpha"),
        ("*", "1.2.3-alpha"),
        ("= 2.0", "2.0.1-beta"),
        ("^1.1", "1.1.1-alpha"),
        ("~1", "1.3.5-beta"),
        ("~1.x", "1.3.5-beta"),
    ];
    let cases: Vec<(&str, &str, bool)> = flipped
        .iter()
        .map(|&(c, v)| (c, v, true))
        .chain(
            CONSTRAINTS_CHECK
                .iter()
                .filter(|(c, v, _)| !flipped.contains(&(c, v)))
                .copied(),
        )
        .collect();
    assert_checks(&cases, true);
}

/// The README's documented equivalences, checked on both sides of each bound.
#[test]
fn readme_equivalences() {
    assert_checks(
        &[
            // Hyphen ranges.
            ("1.2 - 1.4.5", "1.2.0", true),
            ("1.2 - 1.4.5", "1.4.5", true),
            ("1.2 - 1.4.5", "1.4.6", false),
            ("1.2 - 1.4.5", "1.1.9", false),
            ("2.3.4 - 4.5", "4.5.0", true),
            ("2.3.4 - 4.5", "4.5.9", true),
            ("2.3.4 - 4.5", "4.6.0", false),
            ("2.3.4 - 4.5", "2.3.3", false),
            // Wildcards.
            ("1.2.x", "1.2.0", true),
            ("1.2.x", "1.2.99", true),
            ("1.2.x", "1.3.0", false),
            ("1.2.x", "1.1.9", false),
            (">= 1.2.x", "1.2.0", true),
            (">= 1.2.x", "9.0.0", true),
            (">= 1.2.x", "1.1.9", false),
            ("<= 2.x", "2.99.99", true),
            ("<= 2.x", "3.0.0", false),
            ("*", "0.0.0", true),
            ("x", "10.2.3", true),
            ("X", "10.2.3", true),
            ("1.X", "1.9.9", true),
            ("1.X", "2.0.0", false),
            // A bare partial version behaves like its wildcard form.
            ("1.2", "1.2.7", true),
            ("1.2", "1.3.0", false),
            ("1", "1.9.0", true),
            ("1", "2.0.0", false),
            // Tilde.
            ("~1.2.3", "1.2.3", true),
            ("~1.2.3", "1.2.99", true),
            ("~1.2.3", "1.3.0", false),
            ("~1.2.3", "1.2.2", false),
            ("~1", "1.0.0", true),
            ("~1", "1.99.0", true),
            ("~1", "2.0.0", false),
            ("~2.3", "2.3.0", true),
            ("~2.3", "2.3.9", true),
            ("~2.3", "2.4.0", false),
            ("~1.2.x", "1.2.5", true),
            ("~1.2.x", "1.3.0", false),
            ("~1.x", "1.5.0", true),
            ("~1.x", "2.0.0", false),
            ("~> 1.2", "1.2.5", true),
            // Caret.
            ("^1.2.3", "1.2.3", true),
            ("^1.2.3", "1.99.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^1.2.3", "1.2.2", false),
            ("^1.2.x", "1.2.0", true),
            ("^1.2.x", "1.9.0", true),
            ("^1.2.x", "2.0.0", false),
            ("^2.3", "2.3.0", true),
            ("^2.3", "2.99.0", true),
            ("^2.3", "3.0.0", false),
            ("^2.3", "2.2.9", false),
            ("^2.x", "2.0.0", true),
            ("^2.x", "3.0.0", false),
            ("^0.2.3", "0.2.3", true),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^0.2.3", "0.2.2", false),
            ("^0.2", "0.2.0", true),
            ("^0.2", "0.2.9", true),
            ("^0.2", "0.3.0", false),
            ("^0.0.3", "0.0.3", true),
            ("^0.0.3", "0.0.4", false),
            ("^0.0.3", "0.0.2", false),
            ("^0.0", "0.0.0", true),
            ("^0.0", "0.0.9", true),
            ("^0.0", "0.1.0", false),
            ("^0", "0.0.0", true),
            ("^0", "0.9.9", true),
            ("^0", "1.0.0", false),
            // Pre-releases need `-0` (or any pre-release) in the group.
            (">=1.2.3", "1.2.4-rc.1", false),
            (">=1.2.3-0", "1.2.4-rc.1", true),
            ("2.x-0", "2.1.0-rc.1", true),
            ("2.x-0", "3.0.0-rc.1", false),
            ("2.x", "2.1.0-rc.1", false),
            (">=1.2.3-BETA", "1.2.3-alpha", true),
            // Only the group that names a pre-release admits them.
            ("<1.0.0-0 || >=2", "2.1.0-rc.1", false),
            ("<1.0.0-0 || >=2", "0.5.0-rc.1", true),
        ],
        false,
    );
}

/// Corners where Masterminds' code and its comments disagree; the port follows
/// the code, because that is what Image Updater runs.
#[test]
fn masterminds_code_over_comments() {
    assert_checks(
        &[
            // `^*` only admits 0.0.0 (the comment says "any").
            ("^*", "0.0.0", true),
            ("^*", "1.2.3", false),
            ("^*", "0.1.0", false),
            // `<=*` admits only 0.0.x (its minor is not treated as a wildcard).
            ("<=*", "0.0.9", true),
            ("<=*", "0.1.0", false),
            ("<=*", "1.0.0", false),
            // `!=*` excludes only 0.0.0.
            ("!=*", "1.0.0", true),
            ("!=*", "0.0.0", false),
            // `>*` admits everything above 0.0.0.
            (">*", "0.0.1", true),
            (">*", "0.0.0", false),
            // Anything after a wildcard part is ignored.
            ("1.x.5", "1.2.0", true),
        ],
        false,
    );
}
