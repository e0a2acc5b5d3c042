//! Owns what the write-back editors share: [`ImageChange`] (one image's new
//! version and where it is written) and [`EditError`] (which file, which key,
//! what is wrong and how to fix it).
//!
//! The editors themselves are pure functions from the current text of a file
//! (or its absence) to its new text:
//!
//! - [`argocd_source`]: `.argocd-source-<app>.yaml`, the default target.
//! - [`helm_values`]: a Helm values file (`helmvalues[:<file>]`).
//! - [`kustomization`]: the `images:` of a kustomization
//!   (`kustomization[:<dir>]`).
//!
//! Every editor returns its input unchanged when there is nothing to change,
//! so a caller can compare and skip the commit.

pub mod argocd_source;
pub mod helm_values;
pub mod kustomization;

use thiserror::Error;
use updraft_core::ImageRef;
use updraft_core::config::{HelmTarget, ImageConfig};

use crate::yaml::ParseError;

/// A file that cannot be edited as asked. Displays as
/// `<file>: <problem and how to fix it>`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}: {problem}")]
pub struct EditError {
    /// The file, as the caller named it (its path in the repository).
    pub file: String,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a file or with a change to it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    /// The file is not YAML.
    #[error("is not valid YAML ({0}); fix the syntax, then retry")]
    Syntax(String),
    /// The file holds several YAML documents.
    #[error(
        "holds {0} YAML documents; write-back edits files with exactly one (move the others to a file of their own)"
    )]
    MultipleDocuments(usize),
    /// The top level of the document is not a mapping.
    #[error(
        "its top level is {found}, not a mapping of keys to values (write-back can only edit a mapping)"
    )]
    RootNotMapping {
        /// What it is instead.
        found: &'static str,
    },
    /// A key path cannot be set; `problem` says why and how to fix it.
    #[error("key \"{key}\": {problem}")]
    Key {
        /// The key path as configured (`image.tag`, `images[0].tag`).
        key: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// An image change cannot be written; `problem` says why.
    #[error("image {image}: {problem}")]
    Image {
        /// The image (alias or name).
        image: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The Application's source kind has no parameter overrides.
    #[error(
        "the application source is {kind}, which has no image parameters to override (only Helm and Kustomize sources do; set the source type or use another write-back target)"
    )]
    SourceKind {
        /// The kind, as a word.
        kind: String,
    },
}

impl EditError {
    pub(crate) fn new(file: &str, problem: Problem) -> Self {
        Self {
            file: file.to_string(),
            problem,
        }
    }

    pub(crate) fn key(file: &str, key: &str, problem: impl Into<String>) -> Self {
        Self::new(
            file,
            Problem::Key {
                key: key.to_string(),
                problem: problem.into(),
            },
        )
    }

    pub(crate) fn parse(file: &str, error: ParseError) -> Self {
        Self::new(
            file,
            match error {
                ParseError::Syntax(message) => Problem::Syntax(message),
                ParseError::MultipleDocuments(n) => Problem::MultipleDocuments(n),
            },
        )
    }
}

/// One image's new version and where it is written: the image as
/// configured, the tag (and digest) chosen for it, and the Helm parameter
/// names or Kustomize image name from its [`ImageConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChange {
    /// The image as configured: alias, registry and repository. Its tag
    /// position (a version constraint) is ignored.
    pub image: ImageRef,
    /// The new tag; empty when only a digest is known (written as
    /// `latest@<digest>` then, as Image Updater does).
    pub tag: String,
    /// The new manifest digest (`sha256:…`), for the digest strategy.
    pub digest: Option<String>,
    /// Helm parameter names; `None` uses `image.name` and `image.tag`.
    pub helm: Option<HelmTarget>,
    /// The image name the Kustomize overlay uses
    /// (`<alias>.kustomize.image-name`); `None` = the image itself.
    pub kustomize_image_name: Option<String>,
}

impl ImageChange {
    /// A change of `config`'s image to `tag` (and `digest`).
    pub fn new(config: &ImageConfig, tag: impl Into<String>, digest: Option<String>) -> Self {
        Self {
            image: config.image.with_alias(config.alias.as_deref()),
            tag: tag.into(),
            digest,
            helm: config.helm.clone(),
            kustomize_image_name: config.kustomize_image_name.clone(),
        }
    }

    /// The alias, else the image's full name: how messages name the image.
    pub fn label(&self) -> String {
        self.image
            .alias()
            .map_or_else(|| self.image.full_name(), str::to_string)
    }

    /// The new image: registry and name of the configured image, the new tag
    /// and digest, no alias.
    pub fn new_image(&self) -> ImageRef {
        self.image.with_alias(None).with_tag(
            Some(self.tag.as_str()).filter(|t| !t.is_empty()),
            self.digest.as_deref(),
        )
    }

    /// The Helm parameter names, defaults filled in.
    pub fn helm_target(&self) -> HelmTarget {
        self.helm
            .clone()
            .unwrap_or_else(|| HelmTarget::new(None, None, None))
    }

    /// The Helm parameters Image Updater sets for this change, as
    /// `(parameter, value)`: the image spec parameter with
    /// `registry/name:tag[@digest]` when one is configured, else the name
    /// parameter with `registry/name` and the tag parameter with
    /// `tag[@digest]` (left out when the tag is empty).
    pub fn helm_parameters(&self) -> Vec<(String, String)> {
        let target = self.helm_target();
        let image = self.new_image();
        if let Some(spec) = target.spec {
            return vec![(spec, image.full_name_with_tag())];
        }
        let mut out = vec![(target.name, image.full_name())];
        let tag = image.tag_with_digest();
        if !tag.is_empty() {
            out.push((target.tag, tag));
        }
        out
    }

    /// The Kustomize image override Image Updater writes:
    /// `[<kustomize image name>=]registry/name:tag[@digest]`.
    pub fn kustomize_override(&self) -> String {
        let image = self.new_image().full_name_with_tag();
        match &self.kustomize_image_name {
            Some(name) if !name.is_empty() => format!("{name}={image}"),
            _ => image,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(image: &str, tag: &str, digest: Option<&str>) -> ImageChange {
        let config = ImageConfig::new(ImageRef::parse(image).unwrap());
        ImageChange::new(&config, tag, digest.map(str::to_string))
    }

    #[test]
    fn helm_parameters_follow_image_updater() {
        let c = change("echo=registry.example.com/team/echo:~1.0", "1.2.3", None);
        assert_eq!(c.label(), "echo");
        assert_eq!(
            c.helm_parameters(),
            vec![
                ("image.name".into(), "registry.example.com/team/echo".into()),
                ("image.tag".into(), "1.2.3".into())
            ]
        );
        let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let mut d = change("nginx", "", Some(digest));
        assert_eq!(d.helm_parameters()[1].1, format!("latest@{digest}"));
        d.helm = Some(HelmTarget::new(None, None, Some("image.spec".into())));
        d.tag = "latest".into();
        assert_eq!(
            d.helm_parameters(),
            vec![("image.spec".into(), format!("nginx:latest@{digest}"))]
        );
    }

    #[test]
    fn kustomize_overrides() {
        let mut c = change("quay.io/argoproj/argocd", "v2.1.0", None);
        assert_eq!(c.kustomize_override(), "quay.io/argoproj/argocd:v2.1.0");
        c.kustomize_image_name = Some("argoproj/argocd".into());
        c.image = ImageRef::parse("ghcr.io/argoproj/argocd").unwrap();
        assert_eq!(
            c.kustomize_override(),
            "argoproj/argocd=ghcr.io/argoproj/argocd:v2.1.0"
        );
    }

    #[test]
    fn errors_name_file_key_and_fix() {
        let e = EditError::key("values.yaml", "image.tag", "is a list (write image.tag[0])");
        assert_eq!(
            e.to_string(),
            "values.yaml: key \"image.tag\": is a list (write image.tag[0])"
        );
    }
}
