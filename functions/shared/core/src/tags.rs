//! Owns the tag list that `updraft resolve --tags` reads ([`parse_candidates`]):
//! a JSON array whose items are either a tag name or an object
//!
//! ```json
//! ["1.0.0", {"name": "1.1.0", "digest": "sha256:…", "created": "2024-05-01T12:00:00Z",
//!            "platforms": ["linux/amd64", "linux/arm/v7"]}]
//! ```
//!
//! Only `name` is required in an object; `created` is an RFC 3339 time,
//! stored as nanoseconds since the Unix epoch. Unknown fields are errors.
//! When a name repeats, the later entry wins (as in Image Updater) and takes
//! the earlier one's place in the list. Errors give the item's index,
//! counted from 0 as in JSON.

use std::collections::HashMap;

use serde_json::Value;
use thiserror::Error;

use crate::candidate::Candidate;
use crate::image::is_loose_digest;
use crate::platform::Platform;

/// A tag list that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TagsError {
    /// Not JSON at all.
    #[error("the tag list is not valid JSON: {0}")]
    Json(String),
    /// JSON, but not an array.
    #[error(
        "the tag list must be a JSON array of tag names or {{\"name\", \"digest\", \"created\", \"platforms\"}} objects, not {0}"
    )]
    NotArray(&'static str),
    /// One item is wrong.
    #[error("item {index}: {problem}")]
    Item {
        /// 0-based index in the array.
        index: usize,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

const FIELDS: &str = "name, digest, created, platforms";

/// Reads a tag list (see the module docs).
pub fn parse_candidates(json: &str) -> Result<Vec<Candidate>, TagsError> {
    let value: Value = serde_json::from_str(json).map_err(|e| TagsError::Json(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(TagsError::NotArray(type_name(&value)));
    };
    let mut out: Vec<Candidate> = Vec::with_capacity(items.len());
    let mut positions: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let candidate = candidate(item).map_err(|problem| TagsError::Item { index, problem })?;
        match positions.get(&candidate.name) {
            Some(&at) => out[at] = candidate,
            None => {
                positions.insert(candidate.name.clone(), out.len());
                out.push(candidate);
            }
        }
    }
    Ok(out)
}

fn candidate(item: &Value) -> Result<Candidate, String> {
    let object = match item {
        Value::String(name) => return Ok(Candidate::named(checked_name(name)?)),
        Value::Object(object) => object,
        other => {
            return Err(format!(
                "expected a tag name or an object with {FIELDS}, found {}",
                type_name(other)
            ));
        }
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "digest" | "created" | "platforms"))
    {
        return Err(format!("unknown field '{unknown}' (expected {FIELDS})"));
    }
    let name = match object.get("name") {
        Some(Value::String(name)) => checked_name(name)?,
        Some(other) => return Err(format!("name must be a string, found {}", type_name(other))),
        None => return Err("the object has no name (add \"name\": \"<tag>\")".to_string()),
    };
    let digest = match object.get("digest") {
        None | Some(Value::Null) => None,
        Some(Value::String(digest)) if is_loose_digest(digest) => Some(digest.clone()),
        Some(Value::String(digest)) => {
            return Err(format!(
                "digest '{digest}' is not <algorithm>:<hex> (e.g. sha256:2c26b46b…)"
            ));
        }
        Some(other) => {
            return Err(format!(
                "digest must be a string, found {}",
                type_name(other)
            ));
        }
    };
    let created = match object.get("created") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(parse_created(text)?),
        Some(other) => {
            return Err(format!(
                "created must be an RFC 3339 time string, found {}",
                type_name(other)
            ));
        }
    };
    let platforms = match object.get("platforms") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|p| match p {
                Value::String(s) => Platform::parse(s)
                    .map(|p| p.to_string())
                    .map_err(|e| e.to_string()),
                other => Err(format!(
                    "platforms must hold strings, found {}",
                    type_name(other)
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "platforms must be an array of \"os/arch[/variant]\" strings, found {}",
                type_name(other)
            ));
        }
    };
    Ok(Candidate {
        name,
        digest,
        created,
        platforms,
    })
}

fn checked_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        Err("the tag name is empty".to_string())
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(format!("tag name '{name}' contains whitespace"))
    } else {
        Ok(name.to_string())
    }
}

/// RFC 3339 → nanoseconds since the Unix epoch.
fn parse_created(text: &str) -> Result<i64, String> {
    let time = chrono::DateTime::parse_from_rfc3339(text).map_err(|_| {
        format!("created '{text}' is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)")
    })?;
    time.timestamp_nanos_opt().ok_or_else(|| {
        format!(
            "created '{text}' is outside the years 1677 to 2262 that nanosecond timestamps cover"
        )
    })
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_objects() {
        let tags = parse_candidates(
            r#"["1.0.0", {"name": "1.1.0", "digest": "sha256:abcdef", "created": "2024-05-01T12:00:00.123456789Z",
               "platforms": ["linux/amd64", " linux/arm/v7 "]}, {"name": "2.0.0", "digest": null, "created": null}]"#,
        )
        .unwrap();
        assert_eq!(tags.len(), 3);
        assert_eq!(tags[0], Candidate::named("1.0.0"));
        assert_eq!(tags[1].digest.as_deref(), Some("sha256:abcdef"));
        assert_eq!(tags[1].created, Some(1_714_564_800_123_456_789));
        assert_eq!(tags[1].platforms, vec!["linux/amd64", "linux/arm/v7"]);
        assert_eq!(tags[2], Candidate::named("2.0.0"));
    }

    #[test]
    fn offsets_and_pre_epoch_times() {
        let tags = parse_candidates(
            r#"[{"name": "a", "created": "2024-05-01T14:00:00+02:00"}, {"name": "b", "created": "1969-12-31T23:59:59Z"}]"#,
        )
        .unwrap();
        assert_eq!(tags[0].created, Some(1_714_564_800_000_000_000));
        assert_eq!(tags[1].created, Some(-1_000_000_000));
    }

    #[test]
    fn later_duplicate_wins_in_place() {
        let tags = parse_candidates(
            r#"["zz", {"name": "yy", "created": "2024-01-01T00:00:10Z"}, "cc",
               {"name": "yy", "created": "2024-01-01T00:00:20Z"}]"#,
        )
        .unwrap();
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["zz", "yy", "cc"]);
        assert_eq!(tags[1].created, Some(1_704_067_220_000_000_000));
    }

    #[test]
    fn empty_list() {
        assert!(parse_candidates("[]").unwrap().is_empty());
    }

    #[test]
    fn errors_give_index_and_problem() {
        let cases = [
            (
                r#"["a","b","c",{"name":"d","created":"2024-13-01"}]"#,
                "item 3: created '2024-13-01' is not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)",
            ),
            (
                r#"["a", 1]"#,
                "item 1: expected a tag name or an object with name, digest, created, platforms, found a number",
            ),
            (
                r#"[{"name":"a","size":1}]"#,
                "item 0: unknown field 'size' (expected name, digest, created, platforms)",
            ),
            (
                r#"[{"digest":"sha256:ab"}]"#,
                "item 0: the object has no name (add \"name\": \"<tag>\")",
            ),
            (
                r#"[{"name":1}]"#,
                "item 0: name must be a string, found a number",
            ),
            (r#"[""]"#, "item 0: the tag name is empty"),
            (r#"["a b"]"#, "item 0: tag name 'a b' contains whitespace"),
            (
                r#"[{"name":"a","digest":"abc"}]"#,
                "item 0: digest 'abc' is not <algorithm>:<hex>",
            ),
            (
                r#"[{"name":"a","digest":5}]"#,
                "item 0: digest must be a string, found a number",
            ),
            (
                r#"[{"name":"a","created":5}]"#,
                "item 0: created must be an RFC 3339 time string, found a number",
            ),
            (
                r#"[{"name":"a","platforms":"linux/amd64"}]"#,
                "item 0: platforms must be an array",
            ),
            (
                r#"[{"name":"a","platforms":["linux"]}]"#,
                "item 0: platform 'linux' is not os/arch[/variant]",
            ),
            (
                r#"[{"name":"a","platforms":[true]}]"#,
                "item 0: platforms must hold strings, found a boolean",
            ),
            (
                r#"[{"name":"a","created":"2300-01-01T00:00:00Z"}]"#,
                "item 0: created '2300-01-01T00:00:00Z' is outside",
            ),
            (r#"{"tags": []}"#, "the tag list must be a JSON array"),
            ("[1,", "the tag list is not valid JSON"),
        ];
        for (json, want) in cases {
            let err = parse_candidates(json).unwrap_err().to_string();
            assert!(err.starts_with(want), "{json}: {err}");
        }
    }
}
