//! The `glob` tag filter: Image Updater's `ignore-tags` (drop tags matching any Go `filepath.Match` glob).
//!
//! Parameter `pattern`, repeatable: one glob per value (the host splits
//! Image Updater's comma-separated annotation). A tag matching any pattern is
//! rejected; every other tag is kept. No pattern keeps everything. A
//! malformed pattern is `invalid-config` (Image Updater silently ignores it).

mod glob;

use updraft_plugin_sdk::{FilterInfo, Params, PluginError, TagFilter, Verdict, invalid_config};

struct IgnoreTags;

impl TagFilter for IgnoreTags {
    fn describe() -> FilterInfo {
        FilterInfo::new("glob")
    }

    fn filter(
        params: Vec<(String, String)>,
        tags: Vec<String>,
    ) -> Result<Vec<Verdict>, PluginError> {
        let params = Params::new(&params, &["pattern"])?;
        let patterns: Vec<&str> = params.all("pattern").collect();
        for pattern in &patterns {
            glob::validate(pattern).map_err(|_| {
                invalid_config(format!(
                    "parameter 'pattern': malformed glob '{pattern}' (syntax error in pattern)"
                ))
            })?;
        }
        Ok(tags
            .iter()
            .map(
                |tag| match patterns.iter().find(|p| glob::matches(p, tag) == Ok(true)) {
                    Some(pattern) => {
                        Verdict::Reject(format!("matches ignore-tags pattern '{pattern}'"))
                    }
                    None => Verdict::Keep,
                },
            )
            .collect())
    }
}

updraft_plugin_sdk::export_filter!(IgnoreTags);

#[cfg(test)]
mod tests {
    use super::*;

    fn run(patterns: &[&str], tags: &[&str]) -> Result<Vec<Verdict>, PluginError> {
        let params = patterns
            .iter()
            .map(|p| ("pattern".to_owned(), (*p).to_owned()))
            .collect();
        IgnoreTags::filter(params, tags.iter().map(|t| (*t).to_owned()).collect())
    }

    #[test]
    fn rejects_matching_tags_with_the_pattern() -> Result<(), PluginError> {
        let verdicts = run(&["tag?", "foo"], &["tag1", "foo", "tag10"])?;
        assert!(
            matches!(&verdicts[0], Verdict::Reject(r) if r == "matches ignore-tags pattern 'tag?'")
        );
        assert!(
            matches!(&verdicts[1], Verdict::Reject(r) if r == "matches ignore-tags pattern 'foo'")
        );
        assert!(matches!(verdicts[2], Verdict::Keep));
        Ok(())
    }

    #[test]
    fn no_pattern_keeps_everything() -> Result<(), PluginError> {
        let verdicts = run(&[], &["a", "b"])?;
        assert!(verdicts.iter().all(|v| matches!(v, Verdict::Keep)));
        Ok(())
    }

    #[test]
    fn malformed_patterns_are_invalid_config() {
        for bad in ["[", "a[", "\\", "[-x]", "ok*", "x[]"] {
            let result = run(&["fine*", bad], &["zzz"]);
            if bad == "ok*" {
                assert!(result.is_ok());
                continue;
            }
            assert!(
                matches!(&result, Err(PluginError::InvalidConfig(m)) if m.contains(bad)),
                "{bad}: {result:?}"
            );
        }
    }
}
