//! The `newest-build` strategy: the most recently built image wins, as Image Updater's `newest-build` (`latest`).
//!
//! Candidates are ordered by their image build time (`created`, from the
//! image config); among tags built at the same instant the lexically greatest
//! name wins (Image Updater sorts ties by name ascending and takes the last).
//! Candidates whose build time the host could not learn are rejected. The
//! constraint is ignored: narrow the candidates with an allow-tags filter.

use updraft_plugin_sdk::{
    Params, PluginError, Rejection, SelectRequest, Selection, Strategy, StrategyInfo,
};

struct NewestBuild;

impl Strategy for NewestBuild {
    fn describe() -> StrategyInfo {
        StrategyInfo {
            needs_created: true,
            ..StrategyInfo::new("newest-build")
        }
    }

    fn select(request: SelectRequest) -> Result<Selection, PluginError> {
        Params::new(&request.params, &[])?;
        let mut rejected = Vec::new();
        let mut best: Option<(i64, &str)> = None;
        for candidate in &request.candidates {
            let Some(created) = candidate.created else {
                rejected.push(Rejection::new(&candidate.name, "build time unknown"));
                continue;
            };
            let key = (created, candidate.name.as_str());
            if best.is_none_or(|b| key > b) {
                best = Some(key);
            }
        }
        Ok(match best {
            Some((created, tag)) => Selection::chosen(
                tag,
                format!("most recently built ({})", rfc3339(created)),
                rejected,
            ),
            None if rejected.is_empty() => Selection::none("no candidates", rejected),
            None => Selection::none("no candidate has a known build time", rejected),
        })
    }
}

updraft_plugin_sdk::export_strategy!(NewestBuild);

/// Formats nanoseconds since the Unix epoch as RFC 3339 UTC, to the second
/// (no clock is read: this is plain calendar arithmetic).
fn rfc3339(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use updraft_plugin_sdk::TagInfo;

    fn tag(name: &str, created: Option<i64>) -> TagInfo {
        TagInfo {
            name: name.to_owned(),
            digest: None,
            created,
            platforms: Vec::new(),
        }
    }

    fn request(candidates: Vec<TagInfo>) -> SelectRequest {
        SelectRequest {
            current: None,
            constraint: Some("ignored".to_owned()),
            params: Vec::new(),
            candidates,
        }
    }

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn image_updater_latest_sortmode() -> Result<(), PluginError> {
        // zz, bb, yy, cc, yy, aa, ll built 0, 5, …, 30 s after the epoch.
        let names = ["zz", "bb", "yy", "cc", "yy", "aa", "ll"];
        let candidates = names
            .iter()
            .zip(0..)
            .map(|(n, i)| tag(n, Some(i * 5 * SECOND)))
            .collect();
        let selection = NewestBuild::select(request(candidates))?;
        assert_eq!(selection.tag.as_deref(), Some("ll"));
        assert_eq!(
            selection.reason,
            "most recently built (1970-01-01T00:00:30Z)"
        );
        Ok(())
    }

    #[test]
    fn ties_go_to_the_lexically_greatest_name() -> Result<(), PluginError> {
        // tag_test.go: dates [4,1,0,3,2] sort to v1.0.1, v1.0, v2.0, v2.0.3, v2.0.2.
        let dated = [
            ("v2.0.2", 4),
            ("v1.0", 1),
            ("v1.0.1", 0),
            ("v2.0.3", 3),
            ("v2.0", 2),
        ];
        let candidates = dated
            .iter()
            .map(|(n, d)| tag(n, Some(d * SECOND)))
            .collect();
        assert_eq!(
            NewestBuild::select(request(candidates))?.tag.as_deref(),
            Some("v2.0.2")
        );
        let same = ["b", "c", "a"]
            .iter()
            .map(|n| tag(n, Some(SECOND)))
            .collect();
        assert_eq!(
            NewestBuild::select(request(same))?.tag.as_deref(),
            Some("c")
        );
        Ok(())
    }

    #[test]
    fn unknown_build_times_are_rejected() -> Result<(), PluginError> {
        let selection =
            NewestBuild::select(request(vec![tag("a", None), tag("b", Some(-SECOND))]))?;
        assert_eq!(selection.tag.as_deref(), Some("b"));
        assert_eq!(
            selection.reason,
            "most recently built (1969-12-31T23:59:59Z)"
        );
        assert_eq!(selection.rejected.len(), 1);
        assert_eq!(selection.rejected[0].reason, "build time unknown");
        let none = NewestBuild::select(request(vec![tag("a", None)]))?;
        assert_eq!(none.tag, None);
        assert_eq!(none.reason, "no candidate has a known build time");
        Ok(())
    }

    #[test]
    fn extreme_times_format_without_panicking() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_200 * SECOND), "2024-03-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 * SECOND), "2000-02-29T00:00:00Z");
        let _ = rfc3339(i64::MAX);
        let _ = rfc3339(i64::MIN);
    }

    #[test]
    fn describe_asks_for_build_times() {
        let info = NewestBuild::describe();
        assert!(info.needs_created && info.cacheable);
        assert!(!info.needs_digest && !info.needs_constraint && !info.needs_platforms);
    }
}
