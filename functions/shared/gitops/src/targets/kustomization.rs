//! Owns the `kustomization[:<dir>]` target: the `images:` entries
//! (`name`, `newName`, `newTag`, `digest`) of a `kustomization.yaml`,
//! `kustomization.yml` or `Kustomization`, edited in place.
//!
//! Merge rules are Image Updater's (`kustomize edit set image` semantics plus
//! its fixes): an override `[<name>=]<image>[:<tag>][@<digest>]` addresses the
//! entry whose `name` is `<name>` (or the image when there is no `<name>`); an
//! override without a `<name>` also updates an entry that was already in the
//! file and whose `newName` is that image (`docker.io/x` ≡ `x`,
//! `library/x` ≡ `x`). A matched entry gets the override's `newTag` and
//! `digest` (a field the override lacks is removed); its `newName` is added
//! when missing and never overwritten. Without a match a new entry is
//! appended. Finding the file in the directory is the caller's job
//! ([`updraft_core::writeback::KUSTOMIZATION_FILE_NAMES`], in that order).
//!
//! Everything else in the file stays byte for byte: comments, blank lines,
//! field order, sequence indentation, a leading `---`, quoting of the values
//! that are replaced (Image Updater re-styles them; we keep the style and
//! only quote plain values YAML would misread, such as `newTag: "123"`).

use crate::targets::{EditError, ImageChange, Problem};
use crate::yaml::{self, Edits, Kind, Node};

/// One `images:` entry of a kustomization, as an override sets it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KustomizeImage {
    /// The image name the manifests use (`name`).
    pub name: String,
    /// The image to use instead (`newName`), if renamed.
    pub new_name: Option<String>,
    /// The tag to use (`newTag`).
    pub new_tag: Option<String>,
    /// The digest to use (`digest`).
    pub digest: Option<String>,
}

impl KustomizeImage {
    /// Parses an override `[<name>=]<image>[:<tag>][@<digest>]` as Image
    /// Updater's `parseImageOverride` does: with a `<name>`, the image
    /// becomes `newName`; without, the image is the `name`.
    pub fn from_override(text: &str) -> Self {
        let (alias, rest) = match text.split_once('=') {
            Some((alias, rest)) => (alias.trim(), rest.trim()),
            None => ("", text.trim()),
        };
        let split = split_reference(rest);
        let image = split.name.to_string();
        let (name, new_name) = if alias.is_empty() {
            (image, None)
        } else {
            (alias.to_string(), Some(image))
        };
        Self {
            name,
            new_name,
            new_tag: split.tag.map(str::to_string),
            digest: split.digest.map(str::to_string),
        }
    }

    /// The entry an [`ImageChange`] sets.
    pub fn from_change(change: &ImageChange) -> Self {
        Self::from_override(&change.kustomize_override())
    }
}

/// `registry/name[:tag][@digest]` split leniently (never fails).
pub(crate) struct Reference<'a> {
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

pub(crate) fn split_reference(text: &str) -> Reference<'_> {
    let (before, digest) = match text.split_once('@') {
        Some((before, digest)) => (before, Some(digest)),
        None => (text, None),
    };
    let last_slash = before.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match before[last_slash..].rfind(':') {
        Some(i) => (
            &before[..last_slash + i],
            Some(&before[last_slash + i + 1..]),
        ),
        None => (before, None),
    };
    Reference {
        name,
        tag: tag.filter(|t| !t.is_empty()),
        digest: digest.filter(|d| !d.is_empty()),
    }
}

/// Whether two image references name the same image, Docker Hub spellings
/// (`docker.io/`, `index.docker.io/`, `library/`) aside.
pub(crate) fn same_image_ref(a: &str, b: &str) -> bool {
    normalize_image_ref(a) == normalize_image_ref(b)
}

fn normalize_image_ref(reference: &str) -> &str {
    let reference = ["docker.io/", "index.docker.io/"]
        .iter()
        .find_map(|p| reference.strip_prefix(p))
        .unwrap_or(reference);
    match reference.split_once('/') {
        Some((host, _)) if !host.contains(['.', ':']) => {
            reference.strip_prefix("library/").unwrap_or(reference)
        }
        _ => reference,
    }
}

/// Sets the `images:` entries for `changes` in the kustomization `text`
/// (named `file` in errors). Returns `text` unchanged when every entry
/// already says what the changes say.
pub fn set_images(file: &str, text: &str, changes: &[ImageChange]) -> Result<String, EditError> {
    let images: Vec<KustomizeImage> = changes.iter().map(KustomizeImage::from_change).collect();
    set_entries(file, text, &images)
}

/// Sets `images:` entries, one override after the other (see the module
/// documentation for the merge rules).
pub fn set_entries(file: &str, text: &str, images: &[KustomizeImage]) -> Result<String, EditError> {
    for image in images {
        if image.name.is_empty() {
            return Err(EditError::new(
                file,
                Problem::Image {
                    image: String::new(),
                    problem: "the kustomize image override has no image name (set kustomize.image-name or the image)"
                        .to_string(),
                },
            ));
        }
    }
    let original = match images_seq(file, text)? {
        Some(seq) => map_items(&seq).len(),
        None => 0,
    };
    let mut current = text.to_string();
    for image in images {
        let next = apply_one(file, &current, image, original)?;
        verify(file, &next, image)?;
        current = next;
    }
    Ok(current)
}

/// Re-reads the edited text: it must still be YAML with an entry named like
/// the override; otherwise the edit is refused rather than written.
fn verify(file: &str, text: &str, image: &KustomizeImage) -> Result<(), EditError> {
    let found = images_seq(file, text).ok().flatten().is_some_and(|seq| {
        map_items(&seq)
            .iter()
            .any(|(_, e)| field(e, "name").is_some() && entry_matches(e, image))
    });
    if found {
        Ok(())
    } else {
        Err(EditError::new(
            file,
            Problem::Image {
                image: image.name.clone(),
                problem: "the images entry would not read back as written, so the file is left as it is (edit the entry by hand)"
                    .to_string(),
            },
        ))
    }
}

/// Whether the entry carries the override's tag and digest (by name or by
/// the `newName` fallback).
fn entry_matches(entry: &Node, image: &KustomizeImage) -> bool {
    let named = field(entry, "name") == Some(image.name.as_str())
        || field(entry, "newName").is_some_and(|n| same_image_ref(n, &image.name));
    named
        && field(entry, "newTag") == image.new_tag.as_deref()
        && field(entry, "digest") == image.digest.as_deref()
}

fn root_map(file: &str, text: &str) -> Result<Option<Node>, EditError> {
    let root = yaml::parse(text).map_err(|e| EditError::parse(file, e))?;
    match root {
        Some(node) if !matches!(node.kind, Kind::Map(_)) => Err(EditError::new(
            file,
            Problem::RootNotMapping {
                found: node.describe(),
            },
        )),
        other => Ok(other),
    }
}

/// The `images:` sequence, if the file has one.
fn images_seq(file: &str, text: &str) -> Result<Option<Node>, EditError> {
    let Some(root) = root_map(file, text)? else {
        return Ok(None);
    };
    match root.get("images") {
        Some((_, node)) if matches!(node.kind, Kind::Seq(_)) => Ok(Some(node.clone())),
        Some((_, node)) if node.is_null() => Ok(None),
        Some((_, node)) => Err(EditError::key(
            file,
            "images",
            format!(
                "is {}, not a list (make it a list of {{name, newName, newTag, digest}} entries)",
                node.describe()
            ),
        )),
        None => Ok(None),
    }
}

/// The mapping items of a sequence with their positions in it.
fn map_items(seq: &Node) -> Vec<(usize, &Node)> {
    match &seq.kind {
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.kind, Kind::Map(_)))
            .collect(),
        _ => Vec::new(),
    }
}

fn field<'n>(entry: &'n Node, name: &str) -> Option<&'n str> {
    entry.get(name).and_then(|(_, v)| v.scalar())
}

fn apply_one(
    file: &str,
    text: &str,
    image: &KustomizeImage,
    original: usize,
) -> Result<String, EditError> {
    let Some(seq) = images_seq(file, text)? else {
        return append_entry(file, text, None, image);
    };
    let items = map_items(&seq);
    let mut matches: Vec<usize> = items
        .iter()
        .filter(|(_, e)| field(e, "name") == Some(image.name.as_str()))
        .map(|(i, _)| *i)
        .collect();
    if matches.is_empty() && image.new_name.is_none() {
        matches = items
            .iter()
            .take(original)
            .filter(|(_, e)| field(e, "newName").is_some_and(|n| same_image_ref(n, &image.name)))
            .map(|(i, _)| *i)
            .collect();
    }
    if matches.is_empty() {
        return append_entry(file, text, Some(&seq), image);
    }
    let mut current = text.to_string();
    for index in matches {
        let entry = |t: &str| -> Result<Node, EditError> {
            images_seq(file, t)?
                .and_then(|s| match s.kind {
                    Kind::Seq(mut items) if index < items.len() => Some(items.swap_remove(index)),
                    _ => None,
                })
                .ok_or_else(|| EditError::key(file, "images", "changed while being edited"))
        };
        if let Some(new_name) = &image.new_name {
            let e = entry(&current)?;
            if e.get("newName").is_none() && field(&e, "name") != Some(new_name.as_str()) {
                current = set_field(&current, &e, "newName", new_name);
            }
        }
        for (name, value) in [("newTag", &image.new_tag), ("digest", &image.digest)] {
            let e = entry(&current)?;
            current = match value {
                Some(value) => set_field(&current, &e, name, value),
                None => remove_field(&current, &e, name),
            };
        }
    }
    Ok(current)
}

/// Sets `name: value` in the entry mapping (replacing or appending).
fn set_field(text: &str, entry: &Node, name: &str, value: &str) -> String {
    let mut edits = Edits::default();
    match entry.get(name) {
        Some((key, node)) => match &node.kind {
            Kind::Scalar { value: old, style } => {
                let plain_ok = *style != serde_saphyr::granit_parser::ScalarStyle::Plain
                    || yaml::is_safe_plain(value, node.flow);
                if old == value && plain_ok {
                    return text.to_string();
                }
                let rendered = yaml::render_like(value, *style, node.flow);
                if node.start == node.end {
                    let at = yaml::after_colon(text, key.end).unwrap_or(node.start);
                    edits.insert(at, format!(" {rendered}"));
                } else {
                    edits.replace(node.start, node.end, rendered);
                }
            }
            _ => edits.replace(node.start, node.end, yaml::render_safe(value, node.flow)),
        },
        None => {
            let Kind::Map(entries) = &entry.kind else {
                return text.to_string();
            };
            if entry.flow {
                let pair = format!("{name}: {}", yaml::render_safe(value, true));
                match entries.last() {
                    Some((_, last)) => edits.insert(last.end, format!(", {pair}")),
                    None => edits.insert(entry.end.saturating_sub(1), pair),
                }
            } else if let Some((first, _)) = entries.first() {
                let indent = yaml::column(text, first.start);
                let nl = yaml::line_break(text);
                edits.insert(
                    yaml::line_end(text, entry.end),
                    format!(
                        "{nl}{}{name}: {}",
                        " ".repeat(indent),
                        yaml::render_safe(value, false)
                    ),
                );
            }
        }
    }
    edits.apply(text)
}

/// Removes the field `name` from the entry mapping, if present.
fn remove_field(text: &str, entry: &Node, name: &str) -> String {
    let Kind::Map(entries) = &entry.kind else {
        return text.to_string();
    };
    let Some(k) = entries
        .iter()
        .position(|(key, _)| key.scalar() == Some(name))
    else {
        return text.to_string();
    };
    let mut edits = Edits::default();
    let (key, value) = &entries[k];
    if let Some((next, _)) = entries.get(k + 1) {
        // The next key moves up into this one's place (keeps a `- ` prefix).
        edits.replace(key.start, next.start, "");
    } else if entry.flow {
        if let Some((_, previous)) = k.checked_sub(1).and_then(|p| entries.get(p)) {
            edits.replace(previous.end, value.end, "");
        }
    } else if k > 0 {
        edits.replace(
            yaml::line_start(text, key.start),
            yaml::next_line_start(text, value.end),
            "",
        );
    }
    edits.apply(text)
}

/// The entry as block lines: `- name: x` then `  newTag: y`, without the
/// final line break.
fn entry_block(image: &KustomizeImage, dash: usize, content: usize, nl: &str) -> String {
    let mut out = String::new();
    for (i, (key, value)) in entry_fields(image).into_iter().enumerate() {
        if i == 0 {
            out.push_str(&" ".repeat(dash));
            out.push('-');
            out.push_str(&" ".repeat(content.saturating_sub(dash + 1).max(1)));
        } else {
            out.push_str(nl);
            out.push_str(&" ".repeat(content));
        }
        out.push_str(key);
        out.push_str(": ");
        out.push_str(&yaml::render_safe(value, false));
    }
    out
}

fn entry_flow(image: &KustomizeImage) -> String {
    let fields: Vec<String> = entry_fields(image)
        .into_iter()
        .map(|(k, v)| format!("{k}: {}", yaml::render_safe(v, true)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn entry_fields(image: &KustomizeImage) -> Vec<(&'static str, &str)> {
    let mut fields = vec![("name", image.name.as_str())];
    for (key, value) in [
        ("newName", &image.new_name),
        ("newTag", &image.new_tag),
        ("digest", &image.digest),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            fields.push((key, value));
        }
    }
    fields
}

/// Appends a new entry to the `images:` list, creating the list when the
/// file has none (or a null one).
fn append_entry(
    file: &str,
    text: &str,
    seq: Option<&Node>,
    image: &KustomizeImage,
) -> Result<String, EditError> {
    let nl = yaml::line_break(text);
    let mut edits = Edits::default();
    if let Some(seq) = seq {
        let Kind::Seq(items) = &seq.kind else {
            return Ok(text.to_string());
        };
        if seq.flow {
            match items.last() {
                Some(last) => edits.insert(last.end, format!(", {}", entry_flow(image))),
                None => edits.insert(seq.end.saturating_sub(1), entry_flow(image)),
            }
        } else if let Some(first) = items.first() {
            let content = yaml::column(text, first.start);
            let dash = text[..first.start]
                .trim_end_matches([' ', '\t'])
                .strip_suffix('-')
                .map_or(content.saturating_sub(2), |before| {
                    before.len() - yaml::line_start(text, before.len())
                });
            edits.insert(
                yaml::line_end(text, seq.end),
                format!("{nl}{}", entry_block(image, dash, content, nl)),
            );
        }
        return Ok(edits.apply(text));
    }
    let root = root_map(file, text)?;
    let block = entry_block(image, 0, 2, nl);
    match root {
        None => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push_str(nl);
            }
            out.push_str(&format!("images:{nl}{block}{nl}"));
            return Ok(out);
        }
        Some(root) => match root.get("images") {
            Some((key, node)) => {
                // `images:` with a null value.
                let colon = text[key.end..]
                    .find(':')
                    .map_or(key.end, |i| key.end + i + 1);
                let indent = yaml::column(text, key.start);
                let block = entry_block(image, indent, indent + 2, nl);
                if node.flow {
                    edits.replace(
                        colon,
                        node.end.max(colon),
                        format!(" [{}]", entry_flow(image)),
                    );
                } else {
                    edits.replace(colon, node.end.max(colon), format!("{nl}{block}"));
                }
            }
            None => {
                if root.flow {
                    let pair = format!("images: [{}]", entry_flow(image));
                    match &root.kind {
                        Kind::Map(entries) if !entries.is_empty() => {
                            let last = &entries[entries.len() - 1].1;
                            edits.insert(last.end, format!(", {pair}"));
                        }
                        _ => edits.insert(root.end.saturating_sub(1), pair),
                    }
                } else {
                    let indent = match &root.kind {
                        Kind::Map(entries) => entries
                            .first()
                            .map_or(0, |(k, _)| yaml::column(text, k.start)),
                        _ => 0,
                    };
                    let block = entry_block(image, indent, indent + 2, nl);
                    edits.insert(
                        yaml::line_end(text, root.end),
                        format!("{nl}{}images:{nl}{block}", " ".repeat(indent)),
                    );
                }
            }
        },
    }
    Ok(edits.apply(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        name: &str,
        new_name: Option<&str>,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> KustomizeImage {
        KustomizeImage {
            name: name.into(),
            new_name: new_name.map(Into::into),
            new_tag: tag.map(Into::into),
            digest: digest.map(Into::into),
        }
    }

    #[test]
    fn overrides_parse_like_image_updater() {
        let cases = [
            ("foo", entry("foo", None, None, None)),
            ("foo:bar", entry("foo", None, Some("bar"), None)),
            ("baz=foo:bar", entry("baz", Some("foo"), Some("bar"), None)),
            (
                "baz=foo@sha12345",
                entry("baz", Some("foo"), None, Some("sha12345")),
            ),
            (
                "ghcr.io:1234/foo/foo=1234.foo.com:9876/bar:123",
                entry(
                    "ghcr.io:1234/foo/foo",
                    Some("1234.foo.com:9876/bar"),
                    Some("123"),
                    None,
                ),
            ),
            (
                "localhost:5000/x",
                entry("localhost:5000/x", None, None, None),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(KustomizeImage::from_override(text), want, "{text}");
        }
    }

    #[test]
    fn image_refs_compare_like_docker_hub() {
        assert!(same_image_ref("docker.io/library/nginx", "nginx"));
        assert!(same_image_ref(
            "index.docker.io/bitnami/nginx",
            "bitnami/nginx"
        ));
        assert!(!same_image_ref("quay.io/library/nginx", "nginx"));
    }

    #[test]
    fn removes_first_middle_and_last_fields() {
        let text = "images:\n- newTag: a\n  name: x\n  digest: d\n  newName: y\n";
        let seq = images_seq("k", text).unwrap().unwrap();
        let Kind::Seq(items) = &seq.kind else {
            panic!()
        };
        assert_eq!(
            remove_field(text, &items[0], "newTag"),
            "images:\n- name: x\n  digest: d\n  newName: y\n"
        );
        assert_eq!(
            remove_field(text, &items[0], "digest"),
            "images:\n- newTag: a\n  name: x\n  newName: y\n"
        );
        assert_eq!(
            remove_field(text, &items[0], "newName"),
            "images:\n- newTag: a\n  name: x\n  digest: d\n"
        );
        let flow = "images: [{name: x, newTag: a}]\n";
        let seq = images_seq("k", flow).unwrap().unwrap();
        let Kind::Seq(items) = &seq.kind else {
            panic!()
        };
        assert_eq!(
            remove_field(flow, &items[0], "newTag"),
            "images: [{name: x}]\n"
        );
    }
}
