//! Owns the document format: a JSON object whose first fields are
//! `schemaVersion` and `kind`, followed by the typed body; decoding that
//! turns anything unusable into a described problem instead of an error.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A typed document of the store.
pub trait Document:
    Serialize + DeserializeOwned + Clone + PartialEq + Send + Sync + 'static
{
    /// The `kind` field, e.g. `RepositoryCache`.
    const KIND: &'static str;
    /// The schema version this build writes and reads.
    const SCHEMA_VERSION: u32 = 1;
}

/// A document several writers may update: `merge` folds another writer's
/// copy into this one without losing an entry of either. It must be
/// commutative and idempotent in effect (`a ∪ b == b ∪ a`, `a ∪ a == a`) so
/// that retries and concurrent writers converge.
pub trait Merge {
    /// Folds `other` into `self`.
    fn merge(&mut self, other: Self);
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    kind: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Deserialize)]
struct Header {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<serde_json::Value>,
    kind: Option<serde_json::Value>,
}

/// The JSON bytes of `doc` with its envelope, compact (a 300-tag repository
/// document is about 100 KiB compact, 150 KiB pretty; `jq .` reads either).
pub(crate) fn encode<T: Document>(doc: &T) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(&Envelope {
        schema_version: T::SCHEMA_VERSION,
        kind: T::KIND,
        body: doc,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Decodes a document, or says in one line why it cannot be used.
pub fn decode<T: Document>(bytes: &[u8]) -> Result<T, String> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err("the document is empty".into()),
        Some(b'{') => {}
        Some(_) => return Err("not a JSON object".into()),
    }
    let header: Header = serde_json::from_slice(bytes).map_err(|e| describe(&e))?;
    match header.schema_version {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(u64::from(T::SCHEMA_VERSION)) => {}
        Some(other) => {
            return Err(format!(
                "unknown schemaVersion {other} (this build reads {})",
                T::SCHEMA_VERSION
            ));
        }
        None => return Err("no schemaVersion".into()),
    }
    match header.kind {
        Some(serde_json::Value::String(k)) if k == T::KIND => {}
        Some(other) => return Err(format!("kind is {other}, expected \"{}\"", T::KIND)),
        None => return Err(format!("no kind (expected \"{}\")", T::KIND)),
    }
    serde_json::from_slice(bytes).map_err(|e| describe(&e))
}

fn describe(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => format!("truncated JSON: {e}"),
        serde_json::error::Category::Syntax => format!("bad JSON: {e}"),
        _ => format!("unexpected content: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
    struct Doc {
        n: u32,
    }
    impl Document for Doc {
        const KIND: &'static str = "Test";
    }

    #[test]
    fn round_trip_and_problems() {
        let bytes = encode(&Doc { n: 3 }).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"schemaVersion":1,"kind":"Test","n":3}"#));
        assert_eq!(decode::<Doc>(&bytes).unwrap(), Doc { n: 3 });

        let problem = |b: &str| decode::<Doc>(b.as_bytes()).unwrap_err();
        assert!(problem(&text[..text.len() / 2]).starts_with("truncated JSON"));
        assert!(problem("{nope").starts_with("bad JSON"));
        assert_eq!(problem(""), "the document is empty");
        assert!(
            problem(r#"{"schemaVersion": 2, "kind": "Test", "n": 1}"#)
                .contains("unknown schemaVersion 2")
        );
        assert!(
            problem(r#"{"schemaVersion": "1", "kind": "Test", "n": 1}"#)
                .contains("unknown schemaVersion")
        );
        assert!(
            problem(r#"{"schemaVersion": 1, "kind": "Other", "n": 1}"#)
                .contains("expected \"Test\"")
        );
        assert!(
            problem(r#"{"schemaVersion": 1, "kind": "Test", "n": "x"}"#)
                .starts_with("unexpected content")
        );
        assert_eq!(problem("[1, 2]"), "not a JSON object");
    }
}
