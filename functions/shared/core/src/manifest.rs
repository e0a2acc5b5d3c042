//! Owns reading Kubernetes-style YAML streams: [`parse_manifests`] splits a
//! text into its documents (`---`), looks at each document's `apiVersion` and
//! `kind`, and deserializes the kinds Updraft knows — Argo CD `Application`s
//! and `ImageUpdater`s — skipping every other document (other kinds, empty
//! documents, documents that are not mappings).
//!
//! Line numbers in errors are those of the whole text.

use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use thiserror::Error;

use crate::application::{APPLICATION_API_VERSION, APPLICATION_KIND, Application};
use crate::imageupdater::{IMAGE_UPDATER_API_VERSION, IMAGE_UPDATER_KIND, ImageUpdater};

/// A YAML stream that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ManifestError {
    /// A document is not valid YAML.
    #[error("document {document} (from line {line}): invalid YAML: {message}")]
    Syntax {
        /// 1-based index of the document in the stream.
        document: usize,
        /// Line where the document starts.
        line: usize,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A document of a known kind does not have the expected shape.
    #[error("document {document} (from line {line}): {kind} {name}: {message}")]
    Invalid {
        /// 1-based index of the document in the stream.
        document: usize,
        /// Line where the document starts.
        line: usize,
        /// `Application` or `ImageUpdater`.
        kind: String,
        /// `metadata.name`, or `(unnamed)`.
        name: String,
        /// The parser's message, with line and column.
        message: String,
    },
}

/// The known resources of a YAML stream, in stream order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifests {
    /// Argo CD Applications.
    pub applications: Vec<Application>,
    /// Image Updater `ImageUpdater` resources.
    pub image_updaters: Vec<ImageUpdater>,
    /// How many documents were skipped (other kinds, empty or not mappings).
    pub skipped: usize,
}

/// Reads every Application and ImageUpdater out of a YAML stream.
pub fn parse_manifests(yaml: &str) -> Result<Manifests, ManifestError> {
    let mut out = Manifests::default();
    for (index, doc) in split_documents(yaml).into_iter().enumerate() {
        let document = index + 1;
        if !doc.has_content {
            continue;
        }
        let padded = doc.padded();
        let options = serde_saphyr::options! {
            non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
        };
        let probe: Option<Probe> =
            serde_saphyr::from_str_with_options(&padded, options).map_err(|e| {
                ManifestError::Syntax {
                    document,
                    line: doc.first_line,
                    message: one_line(&e),
                }
            })?;
        let Some(probe) = probe.filter(|p| p.is_mapping) else {
            out.skipped += 1;
            continue;
        };
        let name = probe.name.unwrap_or_else(|| "(unnamed)".to_string());
        let context = |kind: &str| (document, doc.first_line, kind.to_string(), name.clone());
        match (probe.api_version.as_deref(), probe.kind.as_deref()) {
            (Some(APPLICATION_API_VERSION), Some(APPLICATION_KIND)) => {
                let app = deserialize(&padded, context(APPLICATION_KIND))?;
                out.applications.push(app);
            }
            (Some(IMAGE_UPDATER_API_VERSION), Some(IMAGE_UPDATER_KIND)) => {
                let updater = deserialize(&padded, context(IMAGE_UPDATER_KIND))?;
                out.image_updaters.push(updater);
            }
            _ => out.skipped += 1,
        }
    }
    Ok(out)
}

fn deserialize<T: DeserializeOwned>(
    padded: &str,
    (document, line, kind, name): (usize, usize, String, String),
) -> Result<T, ManifestError> {
    serde_saphyr::from_str(padded).map_err(|e| ManifestError::Invalid {
        document,
        line,
        kind,
        name,
        message: one_line(&e),
    })
}

/// What a document is, read without committing to a shape: `apiVersion`,
/// `kind` and `metadata.name` when they are strings; everything else is
/// skipped, whatever its type (non-string keys included).
#[derive(Debug, Default)]
struct Probe {
    is_mapping: bool,
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
}

impl<'de> Deserialize<'de> for Probe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ProbeVisitor { top: true })
    }
}

/// Visits the document (`top`) or its `metadata`.
struct ProbeVisitor {
    top: bool,
}

impl<'de> Visitor<'de> for ProbeVisitor {
    type Value = Probe;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
        let mut probe = Probe {
            is_mapping: true,
            ..Probe::default()
        };
        while let Some(Lenient(key)) = map.next_key::<Lenient>()? {
            match (self.top, key.as_deref()) {
                (true, Some("apiVersion")) => probe.api_version = map.next_value::<Lenient>()?.0,
                (true, Some("kind")) => probe.kind = map.next_value::<Lenient>()?.0,
                (true, Some("metadata")) => {
                    let metadata = map.next_value_seed(ProbeSeed)?;
                    probe.name = metadata.name;
                }
                (false, Some("name")) => probe.name = map.next_value::<Lenient>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(probe)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Probe, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Probe::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Probe, E> {
        Ok(Probe::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Probe, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Deserializes `metadata` with a non-top [`ProbeVisitor`].
struct ProbeSeed;

impl<'de> DeserializeSeed<'de> for ProbeSeed {
    type Value = Probe;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Probe, D::Error> {
        deserializer.deserialize_any(ProbeVisitor { top: false })
    }
}

/// A string, or `None` for any other value (which is skipped).
struct Lenient(Option<String>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor)
    }
}

struct LenientVisitor;

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Lenient;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
        Ok(Lenient(Some(v.to_string())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lenient, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Lenient(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lenient, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Lenient(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Lenient, E> {
        Ok(Lenient(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Lenient, E> {
        Ok(Lenient(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Lenient, E> {
        Ok(Lenient(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Lenient, E> {
        Ok(Lenient(None))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Lenient, E> {
        Ok(Lenient(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Lenient, E> {
        Ok(Lenient(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Lenient, E> {
        Ok(Lenient(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Lenient, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// The parser's message without its source snippet or `error: ` prefix.
fn one_line(error: &serde_saphyr::Error) -> String {
    let text = error.without_snippet().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// One document of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Document {
    /// 1-based line of the text where the document's content starts.
    first_line: usize,
    /// The document's lines.
    text: String,
    /// Whether any line holds more than whitespace or a comment.
    has_content: bool,
}

impl Document {
    /// The text preceded by blank lines so that the parser's line numbers are
    /// those of the whole stream.
    fn padded(&self) -> String {
        let mut out = "\n".repeat(self.first_line.saturating_sub(1));
        out.push_str(&self.text);
        out
    }
}

/// Splits a YAML stream at its document markers. A `---` or `...` at the
/// start of a line always delimits documents (YAML forbids them as content
/// there), so this agrees with a full parser. What follows `---` on its line
/// stays in the new document; `%` directives before a document are dropped.
fn split_documents(yaml: &str) -> Vec<Document> {
    let yaml = yaml.strip_prefix('\u{feff}').unwrap_or(yaml);
    let mut docs = Vec::new();
    let mut current = Document {
        first_line: 1,
        text: String::new(),
        has_content: false,
    };
    let marker = |line: &str, m: &str| {
        line.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    };
    for (index, raw) in yaml.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if marker(line, "---") {
            if current.has_content || !current.text.trim().is_empty() {
                docs.push(current);
            }
            let rest = &line[3..];
            current = Document {
                first_line: line_no,
                text: String::new(),
                has_content: false,
            };
            push_line(&mut current, &format!("   {rest}"));
            continue;
        }
        if marker(line, "...") {
            docs.push(current);
            current = Document {
                first_line: line_no + 1,
                text: String::new(),
                has_content: false,
            };
            continue;
        }
        if line.starts_with('%') && !current.has_content {
            // A directive belongs to the next document's header.
            current.text.push('\n');
            continue;
        }
        if current.text.is_empty() && !current.has_content && line.trim().is_empty() {
            // Leading blank lines: start the document later instead.
            current.first_line = line_no + 1;
            continue;
        }
        push_line(&mut current, line);
    }
    if current.has_content || !current.text.trim().is_empty() {
        docs.push(current);
    }
    docs
}

fn push_line(doc: &mut Document, line: &str) {
    let content = line.trim_start();
    if !content.is_empty() && !content.starts_with('#') {
        doc.has_content = true;
    }
    doc.text.push_str(line);
    doc.text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_markers_only_at_line_start() {
        let docs = split_documents(
            "a: 1\n---\nb: '---'\n  ---x\n--- # c\nc: 3\n...\n%YAML 1.2\n---\nd: 4\n",
        );
        let texts: Vec<&str> = docs.iter().map(|d| d.text.trim()).collect();
        assert_eq!(texts, ["a: 1", "b: '---'\n  ---x", "# c\nc: 3", "d: 4"]);
        assert_eq!(docs[0].first_line, 1);
        assert_eq!(docs[1].first_line, 2);
        assert_eq!(docs[2].first_line, 5);
        assert_eq!(docs[3].first_line, 9);
    }

    #[test]
    fn empty_and_comment_only_documents() {
        let docs = split_documents("---\n# just a comment\n---\n\n");
        assert!(docs.iter().all(|d| !d.has_content));
        assert_eq!(
            parse_manifests("---\n# c\n---\n").unwrap(),
            Manifests::default()
        );
        assert_eq!(parse_manifests("").unwrap(), Manifests::default());
    }

    #[test]
    fn skips_other_kinds_and_non_mappings() {
        let yaml = r#"
apiVersion: v1
kind: Secret
metadata: {name: acr}
stringData:
  acr: user:pass
---
- a list
---
just a scalar
---
apiVersion: app.k8s.io/v1beta1
kind: Application
metadata: {name: not-argo}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: real
spec:
  source: {repoURL: 'https://g/r.git', path: x}
"#;
        let m = parse_manifests(yaml).unwrap();
        assert_eq!(m.applications.len(), 1);
        assert_eq!(m.applications[0].name(), "real");
        assert_eq!(m.skipped, 4);
    }

    #[test]
    fn other_documents_may_hold_anything() {
        let yaml = r#"
1: numeric key
true: bool key
null: null key
? [complex, key]
: value
inf: .inf
anchor: &x {b: 1}
alias: *x
bin: !!binary aGVsbG8=
kind: [not, a, string]
metadata: {name: [x]}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ok, annotations: {x: y}}
"#;
        let m = parse_manifests(yaml).unwrap();
        assert_eq!(m.skipped, 1);
        assert_eq!(m.applications[0].name(), "ok");
    }

    #[test]
    fn unnamed_resource_in_errors() {
        let yaml = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec: {}\n";
        let err = parse_manifests(yaml).unwrap_err().to_string();
        assert!(err.contains("Application (unnamed): "), "{err}");
        assert!(err.contains("metadata"), "{err}");
    }

    #[test]
    fn crlf_and_bom() {
        let yaml = "\u{feff}apiVersion: argoproj.io/v1alpha1\r\nkind: Application\r\nmetadata:\r\n  name: w\r\n";
        let m = parse_manifests(yaml).unwrap();
        assert_eq!(m.applications[0].name(), "w");
    }

    #[test]
    fn syntax_errors_give_document_and_line() {
        let yaml = "a: 1\n---\nb: [1,\nc: 2\n";
        let err = parse_manifests(yaml).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("document 2 (from line 2): invalid YAML: "),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains("line "), "{text}");
    }

    #[test]
    fn shape_errors_name_the_resource_and_line() {
        let yaml = "kind: Other\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: bad\nspec:\n  source:\n    repoURL: [1]\n";
        let err = parse_manifests(yaml).unwrap_err().to_string();
        assert!(
            err.starts_with("document 2 (from line 2): Application bad: "),
            "{err}"
        );
        assert!(err.contains("line 9, column 14"), "{err}");
    }
}
