//! Fuel regression bounds: every built-in on a fixed 1,000-tag input must stay
//! under a budget (set about 50 % above the measured figure, recorded in
//! docs/benchmarks.md), and fuel must be deterministic.

use updraft_core::Candidate;
use updraft_plugin_host::SelectRequest;

use crate::support::{builtin, host};

/// 1,000 deterministic tags: versions, dates and digests.
fn thousand_tags() -> Vec<Candidate> {
    (0..1000u32)
        .map(|i| Candidate {
            name: format!("{}.{}.{}", i % 7, (i * 31) % 50, (i * 17) % 97),
            digest: Some(format!("sha256:{:064x}", u64::from(i) * 2_654_435_761)),
            created: Some(1_700_000_000_000_000_000 + i64::from((i * 7919) % 1000) * 1_000_000_000),
            platforms: vec!["linux/amd64".into()],
        })
        .collect()
}

/// (plugin, constraint, fuel bound)
const STRATEGY_BOUNDS: &[(&str, Option<&str>, u64)] = &[
    ("strategy-semver", Some(">=1.0.0, <6"), 5_400_000),
    ("strategy-newest-build", None, 2_800_000),
    ("strategy-alphabetical", None, 2_800_000),
    ("strategy-digest", Some("0.0.0"), 2_800_000),
];

const FILTER_BOUNDS: &[(&str, &str, &str, u64)] = &[
    ("filter-regexp", "expression", r"regexp:^[0-3]\.", 3_200_000),
    ("filter-glob", "pattern", "1.*", 1_500_000),
];

#[test]
fn strategies_stay_within_fuel_bounds() {
    let h = host();
    let tags = thousand_tags();
    for (name, constraint, bound) in STRATEGY_BOUNDS {
        let plugin = builtin(&h, name);
        let request = SelectRequest {
            current: None,
            constraint: *constraint,
            params: &[],
            candidates: &tags,
        };
        let first = plugin.select(request).unwrap();
        let second = plugin.select(request).unwrap();
        eprintln!("fuel {name}: {} ({:?})", first.fuel, first.tag);
        assert!(first.tag.is_some(), "{name} chose nothing");
        assert_eq!(first.fuel, second.fuel, "{name}: fuel is not deterministic");
        assert!(
            first.fuel > 1000,
            "{name}: implausibly low fuel {}",
            first.fuel
        );
        assert!(
            first.fuel <= *bound,
            "{name}: used {} fuel on 1,000 tags, over its bound {bound}",
            first.fuel
        );
    }
}

#[test]
fn filters_stay_within_fuel_bounds() {
    let h = host();
    let tags: Vec<String> = thousand_tags().into_iter().map(|c| c.name).collect();
    for (name, key, value, bound) in FILTER_BOUNDS {
        let plugin = builtin(&h, name);
        let params = vec![(key.to_string(), value.to_string())];
        let first = plugin.filter(&params, &tags).unwrap();
        let second = plugin.filter(&params, &tags).unwrap();
        eprintln!("fuel {name}: {}", first.fuel);
        assert_eq!(first.fuel, second.fuel, "{name}: fuel is not deterministic");
        assert_eq!(first.verdicts.len(), 1000);
        assert!(
            first.fuel <= *bound,
            "{name}: used {} fuel on 1,000 tags, over its bound {bound}",
            first.fuel
        );
    }
}
