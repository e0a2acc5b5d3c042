//! Owns the default target, `.argocd-source-<app>.yaml` in the
//! Application's source path (and any custom file target, which has the same
//! format): Argo CD's parameter overrides, written byte for byte as Image
//! Updater writes them with go-yaml v3 (indent 2, compact sequences):
//!
//! ```yaml
//! helm:
//!   parameters:
//!   - name: image.name
//!     value: nginx
//!     forcestring: true
//! ```
//!
//! ```yaml
//! kustomize:
//!   images:
//!   - quay.io/argoproj/argocd=ghcr.io/argoproj/argocd:v2.1.0
//! ```
//!
//! Merge rules (Image Updater's): Helm parameters are replaced by name or
//! appended, then all are sorted by name (byte order). Kustomize images are
//! matched by registry and repository of the image after any `=`
//! (`docker.io/x` ≡ `x`); a match is replaced when it has no tag or the new
//! one has a different tag, otherwise the new image is appended. Values are
//! quoted exactly where go-yaml quotes them (`"1.20"`, `'-x'`).
//!
//! What we keep that Image Updater drops (on purpose): the file's other
//! content (`helm.valueFiles`, `kustomize.namePrefix`, other top-level keys)
//! is re-written in the same style, and a parameter's camel-case
//! `forceString` is read as `forcestring` (Argo CD reads both). Like Image
//! Updater, leading comment lines and a `---` after them are kept verbatim,
//! comments elsewhere are not, and a file that is not a YAML mapping is
//! replaced. When the merge changes nothing the input is returned unchanged
//! (Image Updater would re-format it).

use crate::targets::kustomization::split_reference;
use crate::targets::{EditError, ImageChange, Problem};
use crate::yaml::{self, Kind, Node};
use serde_saphyr::granit_parser::ScalarStyle;
use updraft_core::config::SourceKind;

/// One Helm parameter override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmParameter {
    /// The parameter (`image.tag`).
    pub name: String,
    /// Its value.
    pub value: String,
    /// Whether Helm receives it with `--set-string`.
    pub force_string: bool,
}

/// Which kind of override the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Helm,
    Kustomize,
}

impl Section {
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Self::Helm => ("helm", "parameters"),
            Self::Kustomize => ("kustomize", "images"),
        }
    }
}

/// The new content of the parameter-override file (named `file` in errors)
/// after writing `changes`, given its current content (`None` when it does
/// not exist yet) and the kind of the Application's source: Helm parameters
/// for [`SourceKind::Helm`], Kustomize images for [`SourceKind::Kustomize`].
/// Any other kind is an error, as it is for Image Updater.
pub fn apply(
    file: &str,
    existing: Option<&str>,
    kind: SourceKind,
    changes: &[ImageChange],
) -> Result<String, EditError> {
    match kind {
        SourceKind::Helm => {
            let parameters: Vec<(String, String)> = changes
                .iter()
                .flat_map(ImageChange::helm_parameters)
                .collect();
            set_helm_parameters(file, existing, &parameters)
        }
        SourceKind::Kustomize => {
            let images: Vec<String> = changes
                .iter()
                .map(ImageChange::kustomize_override)
                .collect();
            set_kustomize_images(file, existing, &images)
        }
        other => Err(EditError::new(
            file,
            Problem::SourceKind {
                kind: format!("{other:?}").to_lowercase(),
            },
        )),
    }
}

/// Merges `(name, value)` Helm parameters (each with `forcestring: true`)
/// into the file.
pub fn set_helm_parameters(
    _file: &str,
    existing: Option<&str>,
    parameters: &[(String, String)],
) -> Result<String, EditError> {
    let text = existing.unwrap_or("");
    let doc = Existing::read(text);
    let before = doc.helm_parameters();
    let mut merged = before.clone().unwrap_or_default();
    for (name, value) in parameters {
        let parameter = HelmParameter {
            name: name.clone(),
            value: value.clone(),
            force_string: true,
        };
        match merged.iter_mut().find(|p| p.name == *name) {
            Some(slot) => *slot = parameter,
            None => merged.push(parameter),
        }
    }
    merged.sort_by(|a, b| a.name.cmp(&b.name));
    if before.as_ref() == Some(&merged) || (existing.is_none() && parameters.is_empty()) {
        return Ok(text.to_string());
    }
    let mut list = String::new();
    for p in &merged {
        list.push_str(&format!(
            "  - name: {}\n    value: {}\n    forcestring: {}\n",
            yaml::render_goyaml(&p.name),
            yaml::render_goyaml(&p.value),
            p.force_string
        ));
    }
    Ok(doc.write(Section::Helm, merged.is_empty(), &list))
}

/// Merges Kustomize image overrides (`[<name>=]<image>:<tag>[@<digest>]`)
/// into the file.
pub fn set_kustomize_images(
    _file: &str,
    existing: Option<&str>,
    images: &[String],
) -> Result<String, EditError> {
    let text = existing.unwrap_or("");
    let doc = Existing::read(text);
    let before = doc.kustomize_images();
    let mut merged = before.clone().unwrap_or_default();
    for image in images {
        let new = Identity::of(image);
        match merged
            .iter()
            .position(|old| Identity::of(old).same_image(&new))
        {
            Some(i) => {
                let old = Identity::of(&merged[i]);
                if old.version.is_none() || (new.version.is_some() && old.version != new.version) {
                    merged[i] = image.clone();
                }
            }
            None => merged.push(image.clone()),
        }
    }
    if before.as_ref() == Some(&merged) || (existing.is_none() && images.is_empty()) {
        return Ok(text.to_string());
    }
    let list: String = merged
        .iter()
        .map(|i| format!("  - {}\n", yaml::render_goyaml(i)))
        .collect();
    Ok(doc.write(Section::Kustomize, merged.is_empty(), &list))
}

/// What identifies a Kustomize override for merging: Image Updater's
/// `NewFromIdentifier` registry and name of the image after `=`, and its
/// tag and digest.
struct Identity<'a> {
    registry: Option<&'a str>,
    name: &'a str,
    version: Option<(Option<&'a str>, Option<&'a str>)>,
}

impl<'a> Identity<'a> {
    fn of(text: &'a str) -> Self {
        let image = text.split_once('=').map_or(text, |(_, image)| image).trim();
        let reference = split_reference(image);
        let (mut registry, mut name) = match reference.name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (Some(first), rest)
            }
            _ => (None, reference.name),
        };
        if registry == Some("docker.io") {
            registry = None;
            name = name.strip_prefix("library/").unwrap_or(name);
        }
        let version = (reference.tag.is_some() || reference.digest.is_some())
            .then_some((reference.tag, reference.digest));
        Self {
            registry,
            name,
            version,
        }
    }

    fn same_image(&self, other: &Self) -> bool {
        self.registry == other.registry && self.name == other.name
    }
}

/// The existing file: its verbatim prefix (leading comments, blank lines,
/// directives and a `---` after them) and its parsed body.
struct Existing<'a> {
    prefix: &'a str,
    body: &'a str,
    root: Option<Node>,
}

impl<'a> Existing<'a> {
    fn read(text: &'a str) -> Self {
        let mut at = 0;
        while at < text.len() {
            let end = yaml::next_line_start(text, at);
            let line = text[at..end].trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
                at = end;
            } else {
                break;
            }
        }
        if at < text.len() {
            let end = yaml::next_line_start(text, at);
            let line = text[at..end].trim_end();
            if line == "---" || line.starts_with("--- ") || line.starts_with("---\t") {
                at = end;
            }
        }
        let (prefix, body) = text.split_at(at);
        let root = yaml::parse(body)
            .ok()
            .flatten()
            .filter(|r| matches!(r.kind, Kind::Map(_)));
        Self { prefix, body, root }
    }

    fn list(&self, section: Section) -> Option<&Node> {
        let (outer, inner) = section.keys();
        let (_, section) = self.root.as_ref()?.get(outer)?;
        let (_, list) = section.get(inner)?;
        Some(list)
    }

    fn helm_parameters(&self) -> Option<Vec<HelmParameter>> {
        let list = self.list(Section::Helm)?;
        let Kind::Seq(items) = &list.kind else {
            return None;
        };
        Some(
            items
                .iter()
                .filter(|item| matches!(item.kind, Kind::Map(_)))
                .map(|item| {
                    let text = |key: &str| {
                        item.get(key)
                            .and_then(|(_, v)| v.scalar())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let force_string = match &item.kind {
                        Kind::Map(entries) => entries.iter().any(|(k, v)| {
                            k.scalar()
                                .is_some_and(|k| k.eq_ignore_ascii_case("forcestring"))
                                && matches!(v.scalar(), Some("true" | "True" | "TRUE"))
                        }),
                        _ => false,
                    };
                    HelmParameter {
                        name: text("name"),
                        value: text("value"),
                        force_string,
                    }
                })
                .collect(),
        )
    }

    fn kustomize_images(&self) -> Option<Vec<String>> {
        let list = self.list(Section::Kustomize)?;
        let Kind::Seq(items) = &list.kind else {
            return None;
        };
        Some(
            items
                .iter()
                .map(|item| item.scalar().unwrap_or_default().to_string())
                .collect(),
        )
    }

    /// The file with the section's list replaced by `list` (lines at
    /// indent 2, or `[]` when `empty`); other content re-emitted in order.
    fn write(&self, section: Section, empty: bool, list: &str) -> String {
        let (outer, inner) = section.keys();
        let list_value = if empty {
            format!("  {inner}: []\n")
        } else {
            format!("  {inner}:\n{list}")
        };
        let mut out = String::from(self.prefix);
        let mut written = false;
        if let Some(Node {
            kind: Kind::Map(entries),
            ..
        }) = &self.root
        {
            for (key, value) in entries {
                if key.scalar() != Some(outer) {
                    self.emit_entry(&mut out, key, value, 0);
                    continue;
                }
                written = true;
                out.push_str(&format!("{outer}:\n"));
                let mut inner_written = false;
                if let Kind::Map(children) = &value.kind {
                    for (child_key, child) in children {
                        if child_key.scalar() == Some(inner) {
                            out.push_str(&list_value);
                            inner_written = true;
                        } else {
                            self.emit_entry(&mut out, child_key, child, 2);
                        }
                    }
                }
                if !inner_written {
                    out.push_str(&list_value);
                }
            }
        }
        if !written {
            out.push_str(&format!("{outer}:\n{list_value}"));
        }
        out
    }

    // go-yaml-style re-emission of content we do not manage.

    fn scalar_text(&self, node: &Node) -> String {
        match &node.kind {
            Kind::Scalar { value, style } => {
                let raw = &self.body[node.start..node.end];
                let text = match style {
                    ScalarStyle::Literal | ScalarStyle::Folded => yaml::double_quoted(value),
                    _ if raw.contains('\n') => yaml::double_quoted(value),
                    _ if node.start == node.end => "null".to_string(),
                    _ => raw.to_string(),
                };
                match &node.anchor {
                    Some(anchor) => format!("&{anchor} {text}"),
                    None => text,
                }
            }
            Kind::Alias(name) => format!("*{name}"),
            _ => String::new(),
        }
    }

    fn emit_entry(&self, out: &mut String, key: &Node, value: &Node, indent: usize) {
        out.push_str(&" ".repeat(indent));
        self.emit_inline_entry(out, key, value, indent);
    }

    /// `key: value` starting at the current position (no indentation).
    fn emit_inline_entry(&self, out: &mut String, key: &Node, value: &Node, indent: usize) {
        out.push_str(&self.scalar_text(key));
        out.push(':');
        self.emit_value(out, value, indent, true);
    }

    /// A value after `key:` (`in_map`) or after `-`.
    fn emit_value(&self, out: &mut String, node: &Node, indent: usize, in_map: bool) {
        let anchor = node
            .anchor
            .as_ref()
            .filter(|_| !matches!(node.kind, Kind::Scalar { .. }))
            .map(|a| format!(" &{a}"))
            .unwrap_or_default();
        match &node.kind {
            Kind::Scalar { .. } | Kind::Alias(_) => {
                out.push(' ');
                out.push_str(&self.scalar_text(node));
                out.push('\n');
            }
            Kind::Map(entries) if entries.is_empty() => out.push_str(&format!("{anchor} {{}}\n")),
            Kind::Seq(items) if items.is_empty() => out.push_str(&format!("{anchor} []\n")),
            Kind::Map(entries) => {
                let child = indent + 2;
                if in_map || !anchor.is_empty() {
                    out.push_str(&anchor);
                    out.push('\n');
                    for (k, v) in entries {
                        self.emit_entry(out, k, v, child);
                    }
                } else {
                    out.push(' ');
                    for (i, (k, v)) in entries.iter().enumerate() {
                        if i > 0 {
                            out.push_str(&" ".repeat(child));
                        }
                        self.emit_inline_entry(out, k, v, child);
                    }
                }
            }
            Kind::Seq(items) => {
                // Compact: a list under a key starts at the key's column.
                let item_indent = if in_map { indent } else { indent + 2 };
                if in_map || !anchor.is_empty() {
                    out.push_str(&anchor);
                    out.push('\n');
                    for item in items {
                        out.push_str(&" ".repeat(item_indent));
                        out.push('-');
                        self.emit_value(out, item, item_indent, false);
                    }
                } else {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(&" ".repeat(item_indent));
                        } else {
                            out.push(' ');
                        }
                        out.push('-');
                        self.emit_value(out, item, item_indent, false);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_follow_new_from_identifier() {
        let a = Identity::of("docker.io/jannfis/foobar:1.0.0");
        let b = Identity::of("jannfis/foobar:1.0.1");
        assert!(a.same_image(&b));
        assert_ne!(a.version, b.version);
        let c = Identity::of("quay.io/argoproj/argocd=ghcr.io/argoproj/argocd:v2.1.0");
        assert_eq!((c.registry, c.name), (Some("ghcr.io"), "argoproj/argocd"));
        assert!(Identity::of("foo").version.is_none());
        assert!(Identity::of("docker.io/library/nginx").same_image(&Identity::of("nginx")));
    }

    #[test]
    fn prefix_is_split_off() {
        let doc = Existing::read("# head\n\n---\nhelm:\n  parameters: []\n");
        assert_eq!(doc.prefix, "# head\n\n---\n");
        assert_eq!(doc.helm_parameters(), Some(vec![]));
        let doc = Existing::read("random content");
        assert!(doc.root.is_none());
    }

    #[test]
    fn other_content_is_re_emitted() {
        let text = "helm:\n  valueFiles:\n    - a.yaml\n  parameters:\n    - name: x\n      value: \"1\"\n      forceString: true\nother: {a: 1, b: [x, y]}\nempty: {}\nlist:\n- - a\n  - b\n- k: v\n  j: w\n";
        let out =
            set_helm_parameters("f", Some(text), &[("image.tag".into(), "v2".into())]).unwrap();
        assert_eq!(
            out,
            "helm:\n  valueFiles:\n  - a.yaml\n  parameters:\n  - name: image.tag\n    value: v2\n    forcestring: true\n  - name: x\n    value: \"1\"\n    forcestring: true\nother:\n  a: 1\n  b:\n  - x\n  - y\nempty: {}\nlist:\n- - a\n  - b\n- k: v\n  j: w\n"
        );
    }
}
