//! Test tag filter: rejects every tag, with a reason, so the tests can see filter verdicts flow through.

use updraft_plugin_sdk::{FilterInfo, PluginError, TagFilter, Verdict};

struct RejectAll;

impl TagFilter for RejectAll {
    fn describe() -> FilterInfo {
        FilterInfo::new("reject-all")
    }

    fn filter(
        _params: Vec<(String, String)>,
        tags: Vec<String>,
    ) -> Result<Vec<Verdict>, PluginError> {
        Ok(tags
            .iter()
            .map(|_| Verdict::Reject("rejected by the reject-all test filter".to_owned()))
            .collect())
    }
}

updraft_plugin_sdk::export_filter!(RejectAll);
