//! Owns the tag-list protocol pieces: the page body and the `Link: <…>;
//! rel="next"` header ([`next_link`]). The paging loop, with its loop
//! detection and caps, is `RegistryClient::list_tags` (`client.rs`).

use reqwest::Url;
use serde::Deserialize;

/// One page of `GET /v2/<name>/tags/list`.
#[derive(Debug, Deserialize)]
pub struct TagPage {
    /// The repository name as the registry spells it.
    #[serde(default)]
    pub name: Option<String>,
    /// The tags; `null` (some registries, for an empty repository) is none.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// The `rel="next"` target of `Link` header values, resolved against the
/// URL of the page that carried it (the spec allows relative links).
pub fn next_link<'a>(
    values: impl IntoIterator<Item = &'a str>,
    base: &Url,
) -> Result<Option<Url>, String> {
    for value in values {
        for link in split_links(value) {
            let Some((target, params)) = parse_link(&link) else {
                return Err(format!("Link header entry '{}' is malformed", link.trim()));
            };
            let is_next = params.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("rel")
                    && v.split_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
            });
            if is_next {
                return base
                    .join(&target)
                    .map(Some)
                    .map_err(|e| format!("Link target '{target}' is not a URL ({e})"));
            }
        }
    }
    Ok(None)
}

/// Splits a `Link` value at the commas between links (not inside `<…>` or
/// quotes).
fn split_links(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut in_angle, mut in_quote) = (false, false);
    for c in value.chars() {
        match c {
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            '"' if !in_angle => in_quote = !in_quote,
            ',' if !in_angle && !in_quote => {
                if !current.trim().is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// `<target>; k=v; k="v"` → target and parameters.
fn parse_link(link: &str) -> Option<(String, Vec<(String, String)>)> {
    let link = link.trim();
    let rest = link.strip_prefix('<')?;
    let end = rest.find('>')?;
    let target = rest[..end].trim().to_string();
    let params = rest[end + 1..]
        .split(';')
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect();
    Some((target, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://r.example/v2/team/app/tags/list?n=2").unwrap()
    }

    #[test]
    fn relative_and_absolute_links() {
        let next = next_link(
            [r#"</v2/team/app/tags/list?n=2&last=b>; rel="next""#],
            &base(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            next.as_str(),
            "https://r.example/v2/team/app/tags/list?n=2&last=b"
        );
        let next = next_link(
            ["<https://cdn.example/v2/x/tags/list?last=c>; rel=next"],
            &base(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(next.host_str(), Some("cdn.example"));
    }

    #[test]
    fn picks_next_among_several() {
        let next = next_link(
            [r#"</first>; rel="first", </p?a=1,2>; rel="prev next""#],
            &base(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(next.as_str(), "https://r.example/p?a=1,2");
        assert_eq!(
            next_link([r#"</first>; rel="first""#], &base()).unwrap(),
            None
        );
        assert_eq!(next_link(Vec::<&str>::new(), &base()).unwrap(), None);
    }

    #[test]
    fn malformed_links_are_errors() {
        assert!(next_link([r#"/v2/x; rel="next""#], &base()).is_err());
        assert!(next_link([r#"<http://[bad>; rel="next""#], &base()).is_err());
    }

    #[test]
    fn page_with_null_tags() {
        let p: TagPage = serde_json::from_str(r#"{"name":"a","tags":null}"#).unwrap();
        assert!(p.tags.is_none());
    }
}
