//! Owns the v1alpha1 `ImageUpdater` resource
//! (`argocd-image-updater.argoproj.io/v1alpha1`, Image Updater 1.x) and how
//! it selects and configures Applications ([`ImageUpdater::configs_for`]).
//!
//! Selection: the resource applies to Applications in its own namespace
//! (when both namespaces are known). Each `applicationRefs[]` entry matches
//! by `namePattern` (a Go `filepath.Match` glob, see [`crate::glob`]) and
//! optional `labelSelectors` (Kubernetes `matchLabels` and
//! `matchExpressions` with `In`, `NotIn`, `Exists`, `DoesNotExist`). When
//! several entries match, the most specific wins, scored as Image Updater
//! does: a pattern without wildcards +1,000,000; +1 per literal character;
//! +10,000 for having label selectors, +100 per label and per expression;
//! ties go to the earlier entry.
//!
//! Settings: `commonUpdateSettings` and `imagesVerification` take the image's
//! value over the entry's over the resource's; `writeBackConfig` the entry's
//! over the resource's, field by field. `useAnnotations: true` ignores all of
//! that and reads the Application's annotations ([`crate::annotations`]).
//!
//! The spec is read strictly (unknown fields are errors, as with
//! `kubectl apply --validate=strict`); `metadata` and `status` are not.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ANNOTATION_PREFIX;
use crate::annotations::from_annotations_with_origin;
use crate::application::{Application, ObjectMeta};
use crate::config::{
    AppConfig, ConfigError, ConfigOrigin, CosignKey, HelmTarget, ImageConfig, PluginEnvTarget,
    Settings, Verification, assemble,
};
use crate::credentials::CredentialRef;
use crate::filters::{AllowTags, IgnoreTags};
use crate::glob::Glob;
use crate::image::ImageRef;
use crate::manifest::{ManifestError, parse_manifests};
use crate::platform::Platform;
use crate::strategy::UpdateStrategy;
use crate::writeback::{PullRequest, PullRequestProvider, WriteBack, WriteBackField};

/// `apiVersion` of an `ImageUpdater`.
pub const IMAGE_UPDATER_API_VERSION: &str = "argocd-image-updater.argoproj.io/v1alpha1";
/// `kind` of an `ImageUpdater`.
pub const IMAGE_UPDATER_KIND: &str = "ImageUpdater";

/// An `ImageUpdater` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpdater {
    /// `argocd-image-updater.argoproj.io/v1alpha1`.
    #[serde(default)]
    pub api_version: String,
    /// `ImageUpdater`.
    #[serde(default)]
    pub kind: String,
    /// Name and namespace.
    pub metadata: ObjectMeta,
    /// What to update and how.
    pub spec: ImageUpdaterSpec,
    /// Ignored.
    #[serde(default, skip_serializing)]
    pub status: Option<serde::de::IgnoredAny>,
}

/// `spec` of an `ImageUpdater`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageUpdaterSpec {
    /// Deprecated and ignored: the resource's own namespace is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Defaults for every image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_update_settings: Option<CommonUpdateSettings>,
    /// Default write-back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_back_config: Option<WriteBackConfig>,
    /// Default signature verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_verification: Option<ImagesVerification>,
    /// Which Applications, and their images (at least one entry).
    pub application_refs: Vec<ApplicationRef>,
}

/// One `applicationRefs[]` entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationRef {
    /// Glob on the Application name.
    pub name_pattern: String,
    /// Label selector on the Application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selectors: Option<LabelSelector>,
    /// Read the Application's annotations instead of this entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_annotations: Option<bool>,
    /// Overrides of the resource's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_update_settings: Option<CommonUpdateSettings>,
    /// Overrides of the resource's write-back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_back_config: Option<WriteBackConfig>,
    /// Overrides of the resource's verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_verification: Option<ImagesVerification>,
    /// The images (required unless `useAnnotations`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageSpec>,
}

/// One `images[]` entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageSpec {
    /// Alias, `^[a-zA-Z0-9][a-zA-Z0-9-._]*$`, unique in the entry.
    pub alias: String,
    /// `image[:constraint]`.
    pub image_name: String,
    /// Overrides for this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_update_settings: Option<CommonUpdateSettings>,
    /// Verification for this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_verification: Option<ImagesVerification>,
    /// Where the tag is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_targets: Option<ManifestTargets>,
}

/// `commonUpdateSettings`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommonUpdateSettings {
    /// Update strategy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<String>,
    /// Update even if not seen running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_update: Option<bool>,
    /// `regexp:<expression>` or `any`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_tags: Option<String>,
    /// Globs of tags to ignore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_tags: Option<Vec<String>>,
    /// Credential reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secret: Option<String>,
    /// `os/arch[/variant]` list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<String>>,
}

/// `writeBackConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WriteBackConfig {
    /// `argocd`, `git` or `git:<credentials>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Git settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_config: Option<GitConfig>,
}

/// `writeBackConfig.gitConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitConfig {
    /// Repository URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `branch`, `base:target` or `:target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// `kustomization[:dir]`, `helmvalues[:file]` or a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_back_target: Option<String>,
    /// Open pull requests instead of pushing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequestConfig>,
}

/// `gitConfig.pullRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PullRequestConfig {
    /// GitHub (`{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<Empty>,
    /// GitLab (`{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<Empty>,
    /// Labels (at most 100).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// An empty object (`{}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `imagesVerification`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImagesVerification {
    /// Whether to verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Cosign public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosign_key: Option<CosignKeyRef>,
}

/// `imagesVerification.cosignKey`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CosignKeyRef {
    /// Secret name.
    pub secret_name: String,
    /// Key in the secret.
    pub key: String,
}

/// `manifestTargets`: exactly one of the three.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestTargets {
    /// Helm parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmTargetSpec>,
    /// Kustomize image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<KustomizeTargetSpec>,
    /// Config-management-plugin environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginTargetSpec>,
}

/// `manifestTargets.helm`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmTargetSpec {
    /// Parameter for the repository (default `image.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Parameter for the tag (default `image.tag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Parameter for the whole reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

/// `manifestTargets.kustomize`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KustomizeTargetSpec {
    /// The kustomization image name to override.
    pub name: String,
}

/// `manifestTargets.plugin`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginTargetSpec {
    /// Variable for the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Variable for the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Variable for the whole reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Labels that must have these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Requirements, all of which must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` and `NotIn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Checks the operators and their values; returns the problem.
    fn validate(&self) -> Result<(), (String, String)> {
        for (index, requirement) in self.match_expressions.iter().enumerate() {
            let field = format!("matchExpressions[{index}]");
            if requirement.key.is_empty() {
                return Err((format!("{field}.key"), "the key is empty".to_string()));
            }
            match requirement.operator.as_str() {
                "In" | "NotIn" if requirement.values.is_empty() => {
                    return Err((
                        format!("{field}.values"),
                        format!("operator {} needs at least one value", requirement.operator),
                    ));
                }
                "Exists" | "DoesNotExist" if !requirement.values.is_empty() => {
                    return Err((
                        format!("{field}.values"),
                        format!(
                            "operator {} takes no values (remove them)",
                            requirement.operator
                        ),
                    ));
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                other => {
                    return Err((
                        format!("{field}.operator"),
                        format!(
                            "\"{other}\" is not an operator (use In, NotIn, Exists or DoesNotExist)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether `labels` satisfy the selector (an empty selector matches
    /// everything).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| r.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

impl ApplicationRef {
    /// Image Updater's specificity score (higher wins).
    pub fn specificity(&self) -> usize {
        let mut score = Glob::literal_len(&self.name_pattern);
        if !Glob::has_wildcards(&self.name_pattern) {
            score += 1_000_000;
        }
        if let Some(selector) = &self.label_selectors {
            score +=
                10_000 + 100 * (selector.match_labels.len() + selector.match_expressions.len());
        }
        score
    }

    fn uses_annotations(&self) -> bool {
        self.use_annotations == Some(true)
    }
}

impl ImageUpdater {
    /// Reads every `ImageUpdater` out of a YAML stream, skipping documents
    /// of other kinds.
    pub fn parse_all(yaml: &str) -> Result<Vec<Self>, ManifestError> {
        Ok(parse_manifests(yaml)?.image_updaters)
    }

    /// `namespace/name`, or `name` without a namespace.
    pub fn display_name(&self) -> String {
        match &self.metadata.namespace {
            Some(ns) => format!("{ns}/{}", self.metadata.name),
            None => self.metadata.name.clone(),
        }
    }

    fn error(&self, field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
        ConfigError::ImageUpdater {
            updater: self.display_name(),
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Checks everything that does not depend on an Application: name
    /// patterns, label selectors, settings, images and write-back.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_selection()?;
        let mut warnings = Vec::new();
        self.settings(
            "spec.commonUpdateSettings",
            self.spec.common_update_settings.as_ref(),
            &mut warnings,
        )?;
        for (index, entry) in self.spec.application_refs.iter().enumerate() {
            if entry.uses_annotations() {
                continue;
            }
            self.images_of(index, entry, &mut warnings)?;
            self.write_back_of(index, entry)?;
        }
        Ok(())
    }

    /// Name patterns and label selectors, which every match needs.
    fn check_selection(&self) -> Result<(), ConfigError> {
        if self.spec.application_refs.is_empty() {
            return Err(self.error(
                "spec.applicationRefs",
                "lists no application (add at least one entry with a namePattern)",
            ));
        }
        for (index, entry) in self.spec.application_refs.iter().enumerate() {
            let field = format!("spec.applicationRefs[{index}]");
            Glob::new(&entry.name_pattern)
                .map_err(|e| self.error(format!("{field}.namePattern"), e.to_string()))?;
            if let Some(selector) = &entry.label_selectors {
                selector.validate().map_err(|(sub, problem)| {
                    self.error(format!("{field}.labelSelectors.{sub}"), problem)
                })?;
            }
        }
        Ok(())
    }

    /// The configuration this resource gives `app`: `Ok(None)` when no
    /// entry selects it (or it lives in another namespace).
    pub fn configs_for(&self, app: &Application) -> Result<Option<AppConfig>, ConfigError> {
        self.check_selection()?;
        if let (Some(own), Some(theirs)) = (&self.metadata.namespace, app.namespace())
            && own != theirs
        {
            return Ok(None);
        }
        let mut entries: Vec<(usize, &ApplicationRef)> =
            self.spec.application_refs.iter().enumerate().collect();
        entries.sort_by_key(|(_, entry)| std::cmp::Reverse(entry.specificity()));
        let Some((index, entry)) = entries.into_iter().find(|(_, entry)| {
            Glob::new(&entry.name_pattern).is_ok_and(|g| g.matches(app.name()))
                && entry
                    .label_selectors
                    .as_ref()
                    .is_none_or(|s| s.matches(app.labels()))
        }) else {
            return Ok(None);
        };
        let origin = ConfigOrigin::ImageUpdater {
            namespace: self.metadata.namespace.clone(),
            name: self.metadata.name.clone(),
        };
        if entry.uses_annotations() {
            return match from_annotations_with_origin(app, origin)? {
                Some(config) => Ok(Some(config)),
                None => Err(ConfigError::Application {
                    app: app.name().to_string(),
                    problem: format!(
                        "ImageUpdater {} selects it (spec.applicationRefs[{index}], useAnnotations: true) but it has no {ANNOTATION_PREFIX}image-list annotation (add one, or list the images in the ImageUpdater)",
                        self.display_name()
                    ),
                }),
            };
        }
        let mut warnings = Vec::new();
        let images = self.images_of(index, entry, &mut warnings)?;
        let (write_back, wb_warnings) = self.write_back_of(index, entry)?;
        warnings.extend(wb_warnings);
        assemble(app, images, write_back, origin, warnings).map(Some)
    }

    /// The images of entry `index`, with settings merged.
    fn images_of(
        &self,
        index: usize,
        entry: &ApplicationRef,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<ImageConfig>, ConfigError> {
        let field = format!("spec.applicationRefs[{index}]");
        if entry.images.is_empty() {
            return Err(self.error(
                format!("{field}.images"),
                "lists no image (add images, or set useAnnotations: true to read the Application's annotations)",
            ));
        }
        let global = self.settings(
            "spec.commonUpdateSettings",
            self.spec.common_update_settings.as_ref(),
            warnings,
        )?;
        let own = self.settings(
            &format!("{field}.commonUpdateSettings"),
            entry.common_update_settings.as_ref(),
            warnings,
        )?;
        let base = global.overlay(&own);
        let base_verification = entry
            .images_verification
            .as_ref()
            .or(self.spec.images_verification.as_ref());
        let mut seen = BTreeMap::new();
        let mut images = Vec::with_capacity(entry.images.len());
        for (i, spec) in entry.images.iter().enumerate() {
            let field = format!("{field}.images[{i}]");
            if !valid_alias(&spec.alias) {
                return Err(self.error(
                    format!("{field}.alias"),
                    format!(
                        "\"{}\" is not a valid alias (start with a letter or digit; use letters, digits, '-', '.' and '_')",
                        spec.alias
                    ),
                ));
            }
            if let Some(previous) = seen.insert(spec.alias.clone(), i) {
                return Err(self.error(
                    format!("{field}.alias"),
                    format!("\"{}\" is already the alias of images[{previous}] (aliases must be unique)", spec.alias),
                ));
            }
            if spec.image_name.trim().is_empty() {
                return Err(self.error(
                    format!("{field}.imageName"),
                    "is empty (write image[:constraint])",
                ));
            }
            let image = ImageRef::parse(&format!("{}={}", spec.alias, spec.image_name))
                .map_err(|e| self.error(format!("{field}.imageName"), e.to_string()))?;
            let mut config = ImageConfig::new(image);
            let own = self.settings(
                &format!("{field}.commonUpdateSettings"),
                spec.common_update_settings.as_ref(),
                warnings,
            )?;
            base.overlay(&own).apply(&mut config);
            self.targets(&field, spec.manifest_targets.as_ref(), &mut config)?;
            config.verification =
                spec.images_verification
                    .as_ref()
                    .or(base_verification)
                    .map(|v| Verification {
                        enabled: v.enabled.unwrap_or(false),
                        cosign_key: v.cosign_key.as_ref().map(|k| CosignKey {
                            secret_name: k.secret_name.clone(),
                            key: k.key.clone(),
                        }),
                    });
            images.push(config);
        }
        Ok(images)
    }

    /// Parses one `commonUpdateSettings` block (`field` is its path).
    fn settings(
        &self,
        field: &str,
        settings: Option<&CommonUpdateSettings>,
        warnings: &mut Vec<String>,
    ) -> Result<Settings, ConfigError> {
        let Some(s) = settings else {
            return Ok(Settings::default());
        };
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let mut out = Settings {
            force_update: s.force_update,
            ..Settings::default()
        };
        if let Some(name) = nonempty(&s.update_strategy) {
            let parsed = UpdateStrategy::parse(&name)
                .map_err(|e| self.error(format!("{field}.updateStrategy"), e.to_string()))?;
            if let Some(warning) = parsed.warning() {
                warnings.push(format!(
                    "ImageUpdater {}: {field}.updateStrategy: {warning}",
                    self.display_name()
                ));
            }
            out.strategy = Some(parsed.strategy);
        }
        if let Some(allow) = nonempty(&s.allow_tags) {
            out.allow_tags = Some(
                AllowTags::parse(&allow)
                    .map_err(|e| self.error(format!("{field}.allowTags"), e.to_string()))?,
            );
        }
        if let Some(ignore) = &s.ignore_tags {
            out.ignore_tags = Some(
                IgnoreTags::from_list(ignore.clone())
                    .map_err(|e| self.error(format!("{field}.ignoreTags"), e.to_string()))?,
            );
        }
        if let Some(secret) = nonempty(&s.pull_secret) {
            out.pull_secret = Some(
                CredentialRef::parse(&secret)
                    .map_err(|e| self.error(format!("{field}.pullSecret"), e.to_string()))?,
            );
        }
        if let Some(platforms) = &s.platforms {
            out.platforms = Some(
                platforms
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        Platform::parse(p).map_err(|e| {
                            self.error(format!("{field}.platforms[{i}]"), e.to_string())
                        })
                    })
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(out)
    }

    /// Applies `manifestTargets` (exactly one of helm, kustomize, plugin).
    fn targets(
        &self,
        field: &str,
        targets: Option<&ManifestTargets>,
        config: &mut ImageConfig,
    ) -> Result<(), ConfigError> {
        let Some(targets) = targets else {
            return Ok(());
        };
        let field = format!("{field}.manifestTargets");
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        match (&targets.helm, &targets.kustomize, &targets.plugin) {
            (Some(helm), None, None) => {
                config.helm = Some(HelmTarget::new(
                    clean(&helm.name),
                    clean(&helm.tag),
                    clean(&helm.spec),
                ));
            }
            (None, Some(kustomize), None) => {
                let name = kustomize.name.trim();
                if name.is_empty() {
                    return Err(self.error(
                        format!("{field}.kustomize.name"),
                        "is empty (write the image name used in the kustomization)",
                    ));
                }
                config.helm = None;
                config.kustomize_image_name = Some(name.to_string());
            }
            (None, None, Some(plugin)) => {
                let target = PluginEnvTarget {
                    name: clean(&plugin.name),
                    tag: clean(&plugin.tag),
                    spec: clean(&plugin.spec),
                };
                if target.spec.is_none() && target.name.is_none() && target.tag.is_none() {
                    return Err(self.error(
                        format!("{field}.plugin"),
                        "names no environment variable (set name and tag, or spec)",
                    ));
                }
                config.helm = None;
                config.plugin_env = Some(target);
            }
            _ => {
                return Err(self.error(field, "must hold exactly one of helm, kustomize or plugin"));
            }
        }
        Ok(())
    }

    /// The write-back of entry `index`: its `writeBackConfig` over the
    /// resource's, field by field.
    fn write_back_of(
        &self,
        index: usize,
        entry: &ApplicationRef,
    ) -> Result<(WriteBack, Vec<String>), ConfigError> {
        let global = self.spec.write_back_config.as_ref();
        let own = entry.write_back_config.as_ref();
        let pick = |f: fn(&WriteBackConfig) -> Option<&String>| {
            own.and_then(f)
                .or_else(|| global.and_then(f))
                .map(String::as_str)
        };
        let pick_git = |f: fn(&GitConfig) -> Option<&String>| {
            git(own)
                .and_then(f)
                .or_else(|| git(global).and_then(f))
                .map(String::as_str)
        };
        // Which level a field came from, for error paths.
        let level = |own_has: bool| {
            if own_has {
                format!("spec.applicationRefs[{index}].writeBackConfig")
            } else {
                "spec.writeBackConfig".to_string()
            }
        };
        let pr_config = git(own)
            .and_then(|g| g.pull_request.as_ref())
            .or_else(|| git(global).and_then(|g| g.pull_request.as_ref()));
        let pr_level = level(git(own).is_some_and(|g| g.pull_request.is_some()));
        let pull_request = pr_config
            .map(|pr| {
                let provider = match (&pr.github, &pr.gitlab) {
                    (Some(_), None) => PullRequestProvider::GitHub,
                    (None, Some(_)) => PullRequestProvider::GitLab,
                    _ => {
                        return Err(self.error(
                            format!("{pr_level}.gitConfig.pullRequest"),
                            "must name exactly one provider (github: {} or gitlab: {})",
                        ));
                    }
                };
                Ok(PullRequest {
                    provider,
                    labels: pr.labels.clone(),
                })
            })
            .transpose()?;
        WriteBack::from_parts(
            pick(|w| w.method.as_ref()),
            pick_git(|g| g.write_back_target.as_ref()),
            pick_git(|g| g.branch.as_ref()),
            pick_git(|g| g.repository.as_ref()),
            pull_request,
        )
        .map_err(|(field, err)| {
            let (own_has, sub) = match field {
                WriteBackField::Method => (own.is_some_and(|w| w.method.is_some()), "method"),
                WriteBackField::Target => (
                    git(own).is_some_and(|g| g.write_back_target.is_some()),
                    "gitConfig.writeBackTarget",
                ),
                WriteBackField::Branch => (
                    git(own).is_some_and(|g| g.branch.is_some()),
                    "gitConfig.branch",
                ),
                WriteBackField::Repository => (
                    git(own).is_some_and(|g| g.repository.is_some()),
                    "gitConfig.repository",
                ),
                WriteBackField::PullRequest => (
                    git(own).is_some_and(|g| g.pull_request.is_some()),
                    "gitConfig.pullRequest",
                ),
            };
            self.error(format!("{}.{sub}", level(own_has)), err.to_string())
        })
    }
}

/// The `gitConfig` of a write-back block, if any.
fn git(config: Option<&WriteBackConfig>) -> Option<&GitConfig> {
    config.and_then(|w| w.git_config.as_ref())
}

/// `^[a-zA-Z0-9][a-zA-Z0-9-._]*$`
fn valid_alias(alias: &str) -> bool {
    let mut chars = alias.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;
    use crate::writeback::{GitCredentials, WriteBackTarget};

    const TUTORIAL_APPS: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app-helm-dev
  namespace: argocd
  labels: {env: dev, team: echo}
spec:
  source:
    path: manifests/helm/echo-server
    repoURL: 'git@github.com:ivan-cai/gitops-demo.git'
    targetRevision: stable-example
    helm:
      valueFiles: [values-dev.yaml]
  syncPolicy:
    automated: {}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app-helm-production
  namespace: argocd
  labels: {env: production, team: echo}
  annotations:
    argocd-image-updater.argoproj.io/image-list: echoserver=demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server
    argocd-image-updater.argoproj.io/echoserver.update-strategy: newest-build
spec:
  source:
    path: manifests/helm/echo-server
    repoURL: 'git@github.com:ivan-cai/gitops-demo.git'
    targetRevision: test2
    helm:
      valueFiles: [values-production.yaml]
"#;

    const UPDATER: &str = r#"
apiVersion: argocd-image-updater.argoproj.io/v1alpha1
kind: ImageUpdater
metadata:
  name: echo
  namespace: argocd
spec:
  namespace: argocd
  commonUpdateSettings:
    updateStrategy: semver
    allowTags: "regexp:^v"
    ignoreTags: ["*-rc*"]
  writeBackConfig:
    method: "git:secret:argocd/git-creds"
    gitConfig:
      branch: main
      writeBackTarget: helmvalues
  applicationRefs:
    - namePattern: "app-helm-*"
      commonUpdateSettings:
        updateStrategy: newest-build
        forceUpdate: true
      writeBackConfig:
        gitConfig:
          writeBackTarget: "helmvalues:values-dev.yaml"
      images:
        - alias: echoserver
          imageName: demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server:~1.2
          commonUpdateSettings:
            updateStrategy: semver
            platforms: [linux/amd64]
          manifestTargets:
            helm:
              name: image.echoServer.repository
              tag: image.echoServer.tag
        - alias: webserver
          imageName: demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-web-server
          manifestTargets:
            kustomize:
              name: echo-web-server
    - namePattern: "app-helm-production"
      useAnnotations: true
status:
  conditions: [{type: Ready, status: "True"}]
"#;

    fn apps() -> Vec<Application> {
        Application::parse_all(TUTORIAL_APPS).unwrap()
    }

    fn updater(yaml: &str) -> ImageUpdater {
        ImageUpdater::parse_all(yaml).unwrap().remove(0)
    }

    #[test]
    fn parses_and_validates() {
        let u = updater(UPDATER);
        assert_eq!(u.display_name(), "argocd/echo");
        assert_eq!(u.spec.application_refs.len(), 2);
        u.validate().unwrap();
    }

    #[test]
    fn precedence_image_over_ref_over_global() {
        let u = updater(UPDATER);
        let dev = &apps()[0];
        let config = u.configs_for(dev).unwrap().unwrap();
        assert_eq!(
            config.origin,
            ConfigOrigin::ImageUpdater {
                namespace: Some("argocd".into()),
                name: "echo".into()
            }
        );
        assert!(config.automated_sync);
        let echo = &config.images[0];
        assert_eq!(echo.alias.as_deref(), Some("echoserver"));
        assert_eq!(echo.strategy, UpdateStrategy::Semver); // image
        assert!(echo.force_update); // ref
        assert_eq!(echo.allow_tags.expression(), Some("^v")); // global
        assert_eq!(echo.ignore_tags.patterns(), ["*-rc*"]); // global
        assert_eq!(
            echo.platforms,
            vec![Platform::parse("linux/amd64").unwrap()]
        );
        assert_eq!(echo.image.constraint(), Some("~1.2"));
        assert_eq!(echo.helm.as_ref().unwrap().tag, "image.echoServer.tag");
        let web = &config.images[1];
        assert_eq!(web.strategy, UpdateStrategy::NewestBuild); // ref
        assert_eq!(web.kustomize_image_name.as_deref(), Some("echo-web-server"));
        assert_eq!(web.helm, None);
        let git = config.write_back.git().unwrap();
        assert_eq!(
            git.credentials,
            GitCredentials::Secret {
                namespace: Some("argocd".into()),
                name: "git-creds".into()
            }
        );
        assert_eq!(git.branch.as_ref().unwrap().base.as_deref(), Some("main")); // global
        assert_eq!(
            git.target,
            WriteBackTarget::HelmValues {
                path: Some("values-dev.yaml".into())
            }
        ); // ref
        assert_eq!(config.source.kind, SourceKind::Helm);
    }

    #[test]
    fn most_specific_ref_wins_and_use_annotations() {
        let u = updater(UPDATER);
        let production = &apps()[1];
        let config = u.configs_for(production).unwrap().unwrap();
        // the exact name beats app-helm-* and reads the annotations
        assert_eq!(config.images.len(), 1);
        assert_eq!(config.images[0].strategy, UpdateStrategy::NewestBuild);
        assert_eq!(config.write_back, WriteBack::Argocd);
        assert!(matches!(config.origin, ConfigOrigin::ImageUpdater { .. }));
    }

    #[test]
    fn use_annotations_without_image_list_is_an_error() {
        let mut u = updater(UPDATER);
        u.spec.application_refs[1].name_pattern = "app-helm-dev".into();
        let err = u.configs_for(&apps()[0]).unwrap_err().to_string();
        assert!(
            err.starts_with("application app-helm-dev: ImageUpdater argocd/echo selects it"),
            "{err}"
        );
        assert!(
            err.contains("no argocd-image-updater.argoproj.io/image-list annotation"),
            "{err}"
        );
    }

    #[test]
    fn no_match_and_other_namespace() {
        let u = updater(UPDATER);
        let mut other = apps()[0].clone();
        other.metadata.name = "unrelated".into();
        assert_eq!(u.configs_for(&other).unwrap(), None);
        let mut elsewhere = apps()[0].clone();
        elsewhere.metadata.namespace = Some("team-a".into());
        assert_eq!(u.configs_for(&elsewhere).unwrap(), None);
        let mut unknown_ns = apps()[0].clone();
        unknown_ns.metadata.namespace = None;
        assert!(u.configs_for(&unknown_ns).unwrap().is_some());
    }

    fn entry(pattern: &str, selector: Option<LabelSelector>) -> ApplicationRef {
        ApplicationRef {
            name_pattern: pattern.into(),
            label_selectors: selector,
            ..ApplicationRef::default()
        }
    }

    #[test]
    fn specificity_scores() {
        assert_eq!(entry("app-*", None).specificity(), 4);
        assert_eq!(entry("app-prod-*", None).specificity(), 9);
        assert_eq!(entry("app-prod", None).specificity(), 1_000_008);
        assert_eq!(entry("app-[a-z]*", None).specificity(), 4);
        let selector = LabelSelector {
            match_labels: [("env".to_string(), "dev".to_string())].into(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "team".into(),
                operator: "Exists".into(),
                values: vec![],
            }],
        };
        assert_eq!(entry("*", Some(selector)).specificity(), 10_200);
        assert_eq!(
            entry("*", Some(LabelSelector::default())).specificity(),
            10_000
        );
    }

    #[test]
    fn label_selectors() {
        let labels: BTreeMap<String, String> = [
            ("env".to_string(), "dev".to_string()),
            ("team".to_string(), "echo".to_string()),
        ]
        .into();
        let req = |key: &str, op: &str, values: &[&str]| LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let sel = |labels: &[(&str, &str)], exprs: Vec<LabelSelectorRequirement>| LabelSelector {
            match_labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            match_expressions: exprs,
        };
        assert!(sel(&[], vec![]).matches(&labels));
        assert!(sel(&[("env", "dev")], vec![]).matches(&labels));
        assert!(!sel(&[("env", "prod")], vec![]).matches(&labels));
        assert!(sel(&[], vec![req("env", "In", &["dev", "staging"])]).matches(&labels));
        assert!(!sel(&[], vec![req("env", "In", &["prod"])]).matches(&labels));
        assert!(!sel(&[], vec![req("missing", "In", &["x"])]).matches(&labels));
        assert!(sel(&[], vec![req("env", "NotIn", &["prod"])]).matches(&labels));
        assert!(sel(&[], vec![req("missing", "NotIn", &["prod"])]).matches(&labels));
        assert!(!sel(&[], vec![req("env", "NotIn", &["dev"])]).matches(&labels));
        assert!(sel(&[], vec![req("team", "Exists", &[])]).matches(&labels));
        assert!(!sel(&[], vec![req("missing", "Exists", &[])]).matches(&labels));
        assert!(sel(&[], vec![req("missing", "DoesNotExist", &[])]).matches(&labels));
        assert!(!sel(&[], vec![req("env", "DoesNotExist", &[])]).matches(&labels));
        assert!(!sel(&[("env", "dev")], vec![req("team", "In", &["other"])]).matches(&labels));
    }

    #[test]
    fn label_selector_chooses_between_refs() {
        let yaml = r#"
apiVersion: argocd-image-updater.argoproj.io/v1alpha1
kind: ImageUpdater
metadata: {name: sel, namespace: argocd}
spec:
  applicationRefs:
    - namePattern: "app-helm-*"
      images: [{alias: a, imageName: "nginx:1.x"}]
    - namePattern: "*"
      labelSelectors:
        matchExpressions:
          - {key: env, operator: In, values: [production]}
      images: [{alias: b, imageName: "redis:7.x"}]
"#;
        let u = updater(yaml);
        let apps = apps();
        // '*' with a selector (10,000) beats 'app-helm-*' (9) when it matches
        let prod = u.configs_for(&apps[1]).unwrap().unwrap();
        assert_eq!(prod.images[0].alias.as_deref(), Some("b"));
        let dev = u.configs_for(&apps[0]).unwrap().unwrap();
        assert_eq!(dev.images[0].alias.as_deref(), Some("a"));
        assert_eq!(dev.write_back, WriteBack::Argocd);
    }

    #[test]
    fn strict_spec_fields() {
        let yaml = UPDATER.replace("    ignoreTags:", "    ignoreTag:");
        let err = ImageUpdater::parse_all(&yaml).unwrap_err().to_string();
        assert!(err.contains("ImageUpdater echo"), "{err}");
        assert!(err.contains("unknown field `ignoreTag`"), "{err}");
        let yaml = UPDATER.replace(
            "  name: echo\n",
            "  name: echo\n  uid: abc\n  generation: 3\n",
        );
        assert!(ImageUpdater::parse_all(&yaml).is_ok());
    }

    #[test]
    fn field_errors_have_paths() {
        let cases = [
            (
                UPDATER.replace("\"app-helm-*\"", "\"app-[\""),
                "spec.applicationRefs[0].namePattern",
                "glob pattern 'app-['",
            ),
            (
                UPDATER.replace("alias: webserver", "alias: -web"),
                "spec.applicationRefs[0].images[1].alias",
                "\"-web\" is not a valid alias",
            ),
            (
                UPDATER.replace("alias: webserver", "alias: echoserver"),
                "spec.applicationRefs[0].images[1].alias",
                "already the alias of images[0]",
            ),
            (
                UPDATER.replace("allowTags: \"regexp:^v\"", "allowTags: \"glob:v*\""),
                "spec.commonUpdateSettings.allowTags",
                "unknown function 'glob'",
            ),
            (
                UPDATER.replace("platforms: [linux/amd64]", "platforms: [linux]"),
                "spec.applicationRefs[0].images[0].commonUpdateSettings.platforms[0]",
                "platform 'linux'",
            ),
            (
                UPDATER.replace("\"git:secret:argocd/git-creds\"", "svn"),
                "spec.writeBackConfig.method",
                "\"svn\" is not a write-back method",
            ),
            (
                UPDATER.replace("\"helmvalues:values-dev.yaml\"", "kustomization.yaml"),
                "spec.applicationRefs[0].writeBackConfig.gitConfig.writeBackTarget",
                "is a kustomization file",
            ),
            (
                UPDATER.replace(
                    "            kustomize:\n              name: echo-web-server",
                    "            kustomize:\n              name: echo-web-server\n            helm: {name: a, tag: b}",
                ),
                "spec.applicationRefs[0].images[1].manifestTargets",
                "exactly one of helm, kustomize or plugin",
            ),
            (
                UPDATER.replace("imageName: demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-web-server", "imageName: \"Echo Web\""),
                "spec.applicationRefs[0].images[1].imageName",
                "is not a valid image reference",
            ),
        ];
        for (yaml, field, needle) in cases {
            let u = updater(&yaml);
            let err = u.validate().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("ImageUpdater argocd/echo: {field}: ")),
                "{err}"
            );
            assert!(err.contains(needle), "{err}");
            let err = u.configs_for(&apps()[0]).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn selector_and_ref_list_validation() {
        let yaml = UPDATER.replace(
            "    - namePattern: \"app-helm-production\"\n",
            "    - namePattern: \"app-helm-production\"\n      labelSelectors:\n        matchExpressions: [{key: env, operator: In}]\n",
        );
        let err = updater(&yaml).validate().unwrap_err().to_string();
        assert!(
            err.contains("spec.applicationRefs[1].labelSelectors.matchExpressions[0].values: operator In needs at least one value"),
            "{err}"
        );
        let yaml = UPDATER.replace(
            "    - namePattern: \"app-helm-production\"\n",
            "    - namePattern: \"app-helm-production\"\n      labelSelectors:\n        matchExpressions: [{key: env, operator: Equals}]\n",
        );
        let err = updater(&yaml).validate().unwrap_err().to_string();
        assert!(err.contains("\"Equals\" is not an operator"), "{err}");
        let mut u = updater(UPDATER);
        u.spec.application_refs.clear();
        assert!(
            u.validate()
                .unwrap_err()
                .to_string()
                .contains("lists no application")
        );
        let mut u = updater(UPDATER);
        u.spec.application_refs[0].images.clear();
        assert!(
            u.validate()
                .unwrap_err()
                .to_string()
                .contains("images: lists no image")
        );
    }

    #[test]
    fn pull_requests_and_plugin_targets() {
        let yaml = r#"
apiVersion: argocd-image-updater.argoproj.io/v1alpha1
kind: ImageUpdater
metadata: {name: pr}
spec:
  writeBackConfig:
    method: git
    gitConfig:
      pullRequest: {github: {}, labels: [images]}
  imagesVerification: {enabled: true, cosignKey: {secretName: cosign, key: cosign.pub}}
  applicationRefs:
    - namePattern: "*"
      images:
        - alias: redis
          imageName: redis:7.x
          manifestTargets:
            plugin: {name: REDIS_IMAGE_NAME, tag: REDIS_IMAGE_TAG}
"#;
        let u = updater(yaml);
        let config = u.configs_for(&apps()[0]).unwrap().unwrap();
        let pr = config
            .write_back
            .git()
            .unwrap()
            .pull_request
            .as_ref()
            .unwrap();
        assert_eq!(pr.provider, PullRequestProvider::GitHub);
        assert_eq!(pr.labels, vec!["images"]);
        let redis = &config.images[0];
        assert_eq!(redis.helm, None);
        assert_eq!(
            redis.plugin_env.as_ref().unwrap().tag.as_deref(),
            Some("REDIS_IMAGE_TAG")
        );
        let verification = redis.verification.as_ref().unwrap();
        assert!(verification.enabled);
        assert_eq!(verification.cosign_key.as_ref().unwrap().key, "cosign.pub");

        let both = yaml.replace("{github: {}, labels", "{github: {}, gitlab: {}, labels");
        let err = updater(&both).validate().unwrap_err().to_string();
        assert!(
            err.contains(
                "spec.writeBackConfig.gitConfig.pullRequest: must name exactly one provider"
            ),
            "{err}"
        );
    }
}
