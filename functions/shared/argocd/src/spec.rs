//! Owns [`SpecPatch`]: the changes the `argocd` write-back method makes to an
//! Application's spec — Helm parameters and Kustomize image overrides — and
//! how they are applied to the spec **as JSON**, so that every field Updraft
//! does not model (`ignoreDifferences`, `helm.values`, `kustomize.patches`,
//! …) goes back to the server untouched.
//!
//! The rules are Image Updater's (`pkg/argocd/argocd.go` `SetHelmImage`,
//! `SetKustomizeImage`): a Helm parameter replaces the parameter of the same
//! name or is appended; a Kustomize image replaces the override for the same
//! image name or is appended.

use serde_json::{Map, Value, json};
use updraft_core::application::HelmParameter;

/// Which source of the Application a change applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceSelector {
    /// `spec.source` (single-source Applications).
    #[default]
    Single,
    /// `spec.sources[i]` (multi-source Applications).
    Index(usize),
}

/// One change to an Application's spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecChange {
    /// Set a Helm parameter (`spec.source.helm.parameters[]`).
    HelmParameter {
        /// The source to change.
        source: SourceSelector,
        /// The parameter; one with the same name is replaced.
        parameter: HelmParameter,
    },
    /// Set a Kustomize image override (`spec.source.kustomize.images[]`),
    /// `[<original>=]<new>[:<tag>][@<digest>]`.
    KustomizeImage {
        /// The source to change.
        source: SourceSelector,
        /// The override; one for the same image name is replaced.
        image: String,
    },
}

/// A set of changes to an Application's spec, for
/// [`crate::ArgoClient::update_application_spec`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpecPatch {
    /// The changes, applied in order.
    pub changes: Vec<SpecChange>,
}

/// Why a [`SpecPatch`] cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecPatchError {
    /// The chosen source does not exist.
    #[error("the Application has no {0}; choose an existing source")]
    NoSuchSource(String),
    /// The spec (or a part of it) has an unexpected shape.
    #[error("{0} is not a JSON object")]
    NotAnObject(String),
    /// A list in the spec is not a list.
    #[error("{0} is not a JSON array")]
    NotAnArray(String),
}

impl SpecPatch {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a Helm parameter for `spec.source`, with `forceString: true` as
    /// Image Updater writes it.
    pub fn helm_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.changes.push(SpecChange::HelmParameter {
            source: SourceSelector::Single,
            parameter: HelmParameter {
                name: name.into(),
                value: value.into(),
                force_string: true,
            },
        });
        self
    }

    /// Adds a Kustomize image override for `spec.source`.
    pub fn kustomize_image(mut self, image: impl Into<String>) -> Self {
        self.changes.push(SpecChange::KustomizeImage {
            source: SourceSelector::Single,
            image: image.into(),
        });
        self
    }

    /// Adds any change.
    pub fn with(mut self, change: SpecChange) -> Self {
        self.changes.push(change);
        self
    }

    /// Whether there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Applies the changes to `spec` (the JSON of `v1alpha1ApplicationSpec`).
    /// Returns whether anything changed.
    pub fn apply(&self, spec: &mut Value) -> Result<bool, SpecPatchError> {
        let before = spec.clone();
        for change in &self.changes {
            match change {
                SpecChange::HelmParameter { source, parameter } => {
                    let helm = child_object(source_mut(spec, *source)?, "helm", "helm")?;
                    let parameters = child_array(helm, "parameters", "helm.parameters")?;
                    let new = json!({
                        "name": parameter.name,
                        "value": parameter.value,
                        "forceString": parameter.force_string,
                    });
                    match parameters
                        .iter_mut()
                        .find(|p| p.get("name").and_then(Value::as_str) == Some(&parameter.name))
                    {
                        Some(existing) => *existing = new,
                        None => parameters.push(new),
                    }
                }
                SpecChange::KustomizeImage { source, image } => {
                    let kustomize =
                        child_object(source_mut(spec, *source)?, "kustomize", "kustomize")?;
                    let images = child_array(kustomize, "images", "kustomize.images")?;
                    let key = kustomize_image_key(image);
                    match images
                        .iter_mut()
                        .find(|i| i.as_str().map(kustomize_image_key) == Some(key))
                    {
                        Some(existing) => *existing = Value::String(image.clone()),
                        None => images.push(Value::String(image.clone())),
                    }
                }
            }
        }
        Ok(*spec != before)
    }
}

/// The image name a Kustomize override applies to: the part before `=`, or
/// the image without tag and digest.
pub fn kustomize_image_key(image: &str) -> &str {
    if let Some((original, _)) = image.split_once('=') {
        return original;
    }
    let without_digest = image.split_once('@').map_or(image, |(name, _)| name);
    match without_digest.rfind(':') {
        // A ':' after the last '/' starts the tag; before it, a port.
        Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
        _ => without_digest,
    }
}

fn source_mut(
    spec: &mut Value,
    selector: SourceSelector,
) -> Result<&mut Map<String, Value>, SpecPatchError> {
    let spec = spec
        .as_object_mut()
        .ok_or_else(|| SpecPatchError::NotAnObject("spec".into()))?;
    match selector {
        SourceSelector::Single => {
            let multi = spec
                .get("sources")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            match spec.get_mut("source") {
                Some(Value::Object(source)) => Ok(source),
                _ if multi => Err(SpecPatchError::NoSuchSource(
                    "spec.source (it is a multi-source Application: choose spec.sources[i])".into(),
                )),
                _ => Err(SpecPatchError::NoSuchSource("spec.source".into())),
            }
        }
        SourceSelector::Index(index) => match spec
            .get_mut("sources")
            .and_then(Value::as_array_mut)
            .and_then(|sources| sources.get_mut(index))
        {
            Some(Value::Object(source)) => Ok(source),
            _ => Err(SpecPatchError::NoSuchSource(format!(
                "spec.sources[{index}]"
            ))),
        },
    }
}

fn child_object<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a mut Map<String, Value>, SpecPatchError> {
    let slot = parent
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| SpecPatchError::NotAnObject(what.to_string()))
}

fn child_array<'a>(
    parent: &'a mut Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a mut Vec<Value>, SpecPatchError> {
    let slot = parent
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut()
        .ok_or_else(|| SpecPatchError::NotAnArray(what.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_parameters_replace_by_name_and_append() {
        let mut spec = json!({
            "project": "default",
            "ignoreDifferences": [{"kind": "Secret", "jsonPointers": ["/data"]}],
            "source": {"repoURL": "r", "helm": {
                "values": "a: 1\n",
                "parameters": [{"name": "image.tag", "value": "1.0", "forceString": true},
                               {"name": "replicas", "value": "2"}]}}
        });
        let patch = SpecPatch::new()
            .helm_parameter("image.tag", "1.1")
            .helm_parameter("image.repository", "registry/app");
        assert!(patch.apply(&mut spec).unwrap());
        assert_eq!(
            spec["source"]["helm"]["parameters"],
            json!([{"name": "image.tag", "value": "1.1", "forceString": true},
                   {"name": "replicas", "value": "2"},
                   {"name": "image.repository", "value": "registry/app", "forceString": true}])
        );
        // Fields Updraft does not model survive.
        assert_eq!(spec["source"]["helm"]["values"], "a: 1\n");
        assert_eq!(spec["ignoreDifferences"][0]["kind"], "Secret");
        // Applying again changes nothing.
        assert!(!patch.apply(&mut spec).unwrap());
    }

    #[test]
    fn helm_block_is_created() {
        let mut spec = json!({"source": {"repoURL": "r", "path": "p"}});
        SpecPatch::new()
            .helm_parameter("image.tag", "2")
            .apply(&mut spec)
            .unwrap();
        assert_eq!(spec["source"]["helm"]["parameters"][0]["value"], "2");
    }

    #[test]
    fn kustomize_images_replace_by_image_name() {
        let mut spec = json!({"source": {"repoURL": "r", "kustomize": {
            "namePrefix": "p-",
            "images": ["nginx=nginx:1.24", "registry:5000/team/app:1.0", "other@sha256:abc"]}}});
        SpecPatch::new()
            .kustomize_image("nginx=nginx:1.25")
            .kustomize_image("registry:5000/team/app:1.1")
            .kustomize_image("new/app:3")
            .apply(&mut spec)
            .unwrap();
        assert_eq!(
            spec["source"]["kustomize"]["images"],
            json!([
                "nginx=nginx:1.25",
                "registry:5000/team/app:1.1",
                "other@sha256:abc",
                "new/app:3"
            ])
        );
        assert_eq!(spec["source"]["kustomize"]["namePrefix"], "p-");
    }

    #[test]
    fn image_keys() {
        assert_eq!(kustomize_image_key("a=b:1"), "a");
        assert_eq!(kustomize_image_key("host:5000/app"), "host:5000/app");
        assert_eq!(kustomize_image_key("host:5000/app:1"), "host:5000/app");
        assert_eq!(kustomize_image_key("app@sha256:1"), "app");
        assert_eq!(kustomize_image_key("app:1@sha256:1"), "app");
    }

    #[test]
    fn sources_are_chosen() {
        let mut spec = json!({"sources": [{"repoURL": "a"}, {"repoURL": "b"}]});
        let err = SpecPatch::new()
            .helm_parameter("x", "1")
            .apply(&mut spec)
            .unwrap_err();
        assert!(err.to_string().contains("multi-source"), "{err}");
        SpecPatch::new()
            .with(SpecChange::HelmParameter {
                source: SourceSelector::Index(1),
                parameter: HelmParameter {
                    name: "x".into(),
                    value: "1".into(),
                    force_string: false,
                },
            })
            .apply(&mut spec)
            .unwrap();
        assert_eq!(spec["sources"][1]["helm"]["parameters"][0]["name"], "x");
        let err = SpecPatch::new()
            .with(SpecChange::KustomizeImage {
                source: SourceSelector::Index(5),
                image: "a:1".into(),
            })
            .apply(&mut spec)
            .unwrap_err();
        assert_eq!(err, SpecPatchError::NoSuchSource("spec.sources[5]".into()));
    }
}
