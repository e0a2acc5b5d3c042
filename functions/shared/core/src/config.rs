//! Owns the configuration model that both configuration surfaces produce:
//! [`AppConfig`] (one Application: its images, write-back and source) and
//! [`ImageConfig`] (one image: strategy, filters, credentials, platforms and
//! where its tag is written), plus [`ConfigError`], which names the
//! Application, the key and the bad value.
//!
//! [`crate::annotations`] builds it from `argocd-image-updater.argoproj.io/*`
//! annotations, [`crate::imageupdater`] from `ImageUpdater` resources.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::application::{Application, ApplicationSource};
use crate::credentials::CredentialRef;
use crate::filters::{AllowTags, FilterCall, IgnoreTags, StrategyCall};
use crate::image::ImageRef;
use crate::platform::Platform;
use crate::strategy::UpdateStrategy;
use crate::writeback::WriteBack;

/// Helm parameter that receives the repository when none is configured.
pub const DEFAULT_HELM_IMAGE_NAME: &str = "image.name";
/// Helm parameter that receives the tag when none is configured.
pub const DEFAULT_HELM_IMAGE_TAG: &str = "image.tag";

/// Configuration that cannot be used. Every message names the Application
/// (or `ImageUpdater`), the key, the bad value, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// An annotation is wrong.
    #[error("application {app}: annotation {key}: {problem}")]
    Annotation {
        /// The Application's name.
        app: String,
        /// The full annotation key.
        key: String,
        /// The bad value and how to fix it.
        problem: String,
    },
    /// The Application itself cannot be used.
    #[error("application {app}: {problem}")]
    Application {
        /// The Application's name.
        app: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A field of an `ImageUpdater` is wrong.
    #[error("ImageUpdater {updater}: {field}: {problem}")]
    ImageUpdater {
        /// `namespace/name` (or `name`) of the resource.
        updater: String,
        /// Path of the field, e.g. `spec.applicationRefs[0].namePattern`.
        field: String,
        /// The bad value and how to fix it.
        problem: String,
    },
}

/// Everything Updraft needs to keep one Application's images up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppConfig {
    /// The Application's name.
    pub name: String,
    /// The Application's namespace, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The images to keep up to date, in configuration order.
    pub images: Vec<ImageConfig>,
    /// How updates are written back.
    pub write_back: WriteBack,
    /// The source the write-back edits.
    pub source: SourceInfo,
    /// Whether Argo CD syncs the Application by itself.
    pub automated_sync: bool,
    /// Where the configuration came from.
    pub origin: ConfigOrigin,
    /// Things worth a warning (deprecated names, settings without effect).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Where an [`AppConfig`] came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ConfigOrigin {
    /// The Application's own annotations.
    Annotations,
    /// An `ImageUpdater` resource.
    ImageUpdater {
        /// Its namespace, when written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        /// Its name.
        name: String,
    },
}

/// The Application source that write-back edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Index in `spec.sources`, or `None` for `spec.source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Repository URL.
    pub repo_url: String,
    /// Directory in the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Branch, tag or commit (`HEAD`/none: the default branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_revision: Option<String>,
    /// Helm chart name, for Helm-repository sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// Helm values files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub helm_value_files: Vec<String>,
    /// What kind of source it is, as far as is known.
    pub kind: SourceKind,
}

/// What tool renders a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Helm.
    Helm,
    /// Kustomize.
    Kustomize,
    /// Plain manifests (Image Updater skips these).
    Directory,
    /// A config-management plugin.
    Plugin,
    /// Not known from the manifest alone (a git path without `helm:` or
    /// `kustomize:` block and no status).
    Unknown,
}

/// One image to keep up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// The alias (`echoserver`), if any; images without one only get the
    /// Application-wide settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The image, with the constraint in its tag position.
    pub image: ImageRef,
    /// The update strategy.
    pub strategy: UpdateStrategy,
    /// Tags allowed at all.
    #[serde(default)]
    pub allow_tags: AllowTags,
    /// Globs of tags never to update to.
    #[serde(default)]
    pub ignore_tags: IgnoreTags,
    /// Update even when the image is not seen running.
    #[serde(default)]
    pub force_update: bool,
    /// Credentials for the registry, if configured for this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secret: Option<CredentialRef>,
    /// Platforms to consider; empty = the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Platform>,
    /// Helm parameters to write (set unless a Kustomize or plugin target is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmTarget>,
    /// The Kustomize image to override (`kustomize edit set image <this>=…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize_image_name: Option<String>,
    /// Config-management-plugin environment variables to write
    /// (`ImageUpdater` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_env: Option<PluginEnvTarget>,
    /// Signature verification (`ImageUpdater` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// Helm parameters an image's new version is written to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelmTarget {
    /// Parameter for `registry/name` (default `image.name`).
    pub name: String,
    /// Parameter for `tag[@digest]` (default `image.tag`).
    pub tag: String,
    /// Parameter for the whole `registry/name:tag`; when set, `name` and
    /// `tag` are not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

impl HelmTarget {
    /// Fills in the default parameter names.
    pub fn new(name: Option<String>, tag: Option<String>, spec: Option<String>) -> Self {
        Self {
            name: name.unwrap_or_else(|| DEFAULT_HELM_IMAGE_NAME.to_string()),
            tag: tag.unwrap_or_else(|| DEFAULT_HELM_IMAGE_TAG.to_string()),
            spec,
        }
    }
}

/// Environment variables of a config-management plugin source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginEnvTarget {
    /// Variable for `registry/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Variable for `tag[@digest]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Variable for the whole reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

/// Signature verification of candidate images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Whether to verify.
    pub enabled: bool,
    /// Cosign public key: a secret name and the key inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosign_key: Option<CosignKey>,
}

/// Where a cosign public key is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosignKey {
    /// Secret name.
    pub secret_name: String,
    /// Key in the secret.
    pub key: String,
}

impl ImageConfig {
    /// An image with default settings.
    pub fn new(image: ImageRef) -> Self {
        Self {
            alias: image.alias().map(str::to_string),
            image,
            strategy: UpdateStrategy::default(),
            allow_tags: AllowTags::default(),
            ignore_tags: IgnoreTags::default(),
            force_update: false,
            pull_secret: None,
            platforms: Vec::new(),
            helm: Some(HelmTarget::new(None, None, None)),
            kustomize_image_name: None,
            plugin_env: None,
            verification: None,
        }
    }

    /// The tag-filter calls to run before the strategy: `filter-regexp` for
    /// `allow-tags`, then `filter-glob` for `ignore-tags`.
    pub fn filter_calls(&self) -> Vec<FilterCall> {
        self.allow_tags
            .filter_call()
            .into_iter()
            .chain(self.ignore_tags.filter_call())
            .collect()
    }

    /// The strategy call, with the image's constraint.
    pub fn strategy_call(&self) -> StrategyCall {
        StrategyCall {
            plugin: self.strategy.plugin_name().to_string(),
            constraint: self.image.constraint().map(str::to_string),
            params: Vec::new(),
        }
    }
}

/// Per-image settings before defaults are applied; a later layer overrides
/// the fields it sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    pub strategy: Option<UpdateStrategy>,
    pub force_update: Option<bool>,
    pub allow_tags: Option<AllowTags>,
    pub ignore_tags: Option<IgnoreTags>,
    pub pull_secret: Option<CredentialRef>,
    pub platforms: Option<Vec<Platform>>,
}

impl Settings {
    /// `self` with the fields `over` sets replaced.
    pub fn overlay(&self, over: &Self) -> Self {
        Self {
            strategy: over.strategy.clone().or_else(|| self.strategy.clone()),
            force_update: over.force_update.or(self.force_update),
            allow_tags: over.allow_tags.clone().or_else(|| self.allow_tags.clone()),
            ignore_tags: over
                .ignore_tags
                .clone()
                .or_else(|| self.ignore_tags.clone()),
            pull_secret: over
                .pull_secret
                .clone()
                .or_else(|| self.pull_secret.clone()),
            platforms: over.platforms.clone().or_else(|| self.platforms.clone()),
        }
    }

    /// Applies the settings (defaults for unset fields) to `config`.
    pub fn apply(self, config: &mut ImageConfig) {
        config.strategy = self.strategy.unwrap_or_default();
        config.force_update = self.force_update.unwrap_or(false);
        config.allow_tags = self.allow_tags.unwrap_or_default();
        config.ignore_tags = self.ignore_tags.unwrap_or_default();
        config.pull_secret = self.pull_secret;
        config.platforms = self.platforms.unwrap_or_default();
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The message for a value [`parse_go_bool`] refuses.
pub(crate) fn not_a_bool(value: &str) -> String {
    format!("\"{value}\" is not a boolean (use true or false)")
}

/// Assembles an [`AppConfig`]: picks the source that write-back edits (the
/// one whose `repoURL` is the write-back repository, else the first with a
/// `helm` or `kustomize` block, else the first with a path, else the first).
pub(crate) fn assemble(
    app: &Application,
    images: Vec<ImageConfig>,
    write_back: WriteBack,
    origin: ConfigOrigin,
    warnings: Vec<String>,
) -> Result<AppConfig, ConfigError> {
    let repository = write_back.git().and_then(|g| g.repository.as_deref());
    let source = select_source(app, repository).ok_or_else(|| ConfigError::Application {
        app: app.name().to_string(),
        problem: "it has neither spec.source nor spec.sources (add the source to update)"
            .to_string(),
    })?;
    Ok(AppConfig {
        name: app.name().to_string(),
        namespace: app.namespace().map(str::to_string),
        images,
        write_back,
        source,
        automated_sync: app.is_automated(),
        origin,
        warnings,
    })
}

fn select_source(app: &Application, repository: Option<&str>) -> Option<SourceInfo> {
    let status = app.status.as_ref();
    if let Some(source) = &app.spec.source {
        let status_kind = status.and_then(|s| s.source_type.as_deref());
        return Some(source_info(None, source, status_kind));
    }
    let sources = &app.spec.sources;
    let index = repository
        .and_then(|repo| sources.iter().position(|s| s.repo_url == repo))
        .or_else(|| {
            sources
                .iter()
                .position(|s| s.helm.is_some() || s.kustomize.is_some())
        })
        .or_else(|| sources.iter().position(|s| s.path.is_some()))
        .or_else(|| (!sources.is_empty()).then_some(0))?;
    let status_kind = status
        .and_then(|s| s.source_types.get(index))
        .map(String::as_str);
    Some(source_info(Some(index), &sources[index], status_kind))
}

fn source_info(
    index: Option<usize>,
    source: &ApplicationSource,
    status_kind: Option<&str>,
) -> SourceInfo {
    let kind = match status_kind {
        Some("Helm") => SourceKind::Helm,
        Some("Kustomize") => SourceKind::Kustomize,
        Some("Directory") => SourceKind::Directory,
        Some("Plugin") => SourceKind::Plugin,
        _ if source.helm.is_some() || source.chart.is_some() => SourceKind::Helm,
        _ if source.kustomize.is_some() => SourceKind::Kustomize,
        _ => SourceKind::Unknown,
    };
    SourceInfo {
        index,
        repo_url: source.repo_url.clone(),
        path: source.path.clone(),
        target_revision: source.target_revision.clone(),
        chart: source.chart.clone(),
        helm_value_files: source
            .helm
            .as_ref()
            .map(|h| h.value_files.clone())
            .unwrap_or_default(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{ApplicationSpec, ApplicationStatus, HelmSource, ObjectMeta};

    #[test]
    fn go_parse_bool() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "tRUE", "maybe", " true"] {
            assert_eq!(parse_go_bool(bad), None, "{bad}");
        }
        assert_eq!(
            not_a_bool("maybe"),
            "\"maybe\" is not a boolean (use true or false)"
        );
    }

    #[test]
    fn settings_overlay_and_defaults() {
        let base = Settings {
            strategy: Some(UpdateStrategy::NewestBuild),
            force_update: Some(true),
            ignore_tags: Some(IgnoreTags::from_annotation("a").unwrap()),
            ..Settings::default()
        };
        let over = Settings {
            strategy: Some(UpdateStrategy::Digest),
            ignore_tags: Some(IgnoreTags::from_list(vec![]).unwrap()),
            ..Settings::default()
        };
        let merged = base.overlay(&over);
        assert_eq!(merged.strategy, Some(UpdateStrategy::Digest));
        assert_eq!(merged.force_update, Some(true));
        assert_eq!(
            merged.ignore_tags.as_ref().map(IgnoreTags::is_empty),
            Some(true)
        );

        let mut image = ImageConfig::new(ImageRef::parse("nginx:~1.26").unwrap());
        Settings::default().apply(&mut image);
        assert_eq!(image.strategy, UpdateStrategy::Semver);
        assert!(!image.force_update);
        assert_eq!(image.allow_tags, AllowTags::Any);
    }

    #[test]
    fn calls_of_an_image() {
        let mut image = ImageConfig::new(ImageRef::parse("e=repo/echo:~1.2").unwrap());
        assert_eq!(image.alias.as_deref(), Some("e"));
        assert!(image.filter_calls().is_empty());
        assert_eq!(
            image.strategy_call(),
            StrategyCall {
                plugin: "strategy-semver".into(),
                constraint: Some("~1.2".into()),
                params: vec![]
            }
        );
        image.allow_tags = AllowTags::parse("regexp:^v").unwrap();
        image.ignore_tags = IgnoreTags::from_annotation("*-rc*").unwrap();
        image.strategy = UpdateStrategy::NewestBuild;
        let calls = image.filter_calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].plugin, "filter-regexp");
        assert_eq!(calls[1].plugin, "filter-glob");
        assert_eq!(image.strategy_call().plugin, "strategy-newest-build");
        let no_tag = ImageConfig::new(ImageRef::parse("repo/echo").unwrap());
        assert_eq!(no_tag.strategy_call().constraint, None);
    }

    fn app_with(spec: ApplicationSpec, status: Option<ApplicationStatus>) -> Application {
        Application {
            metadata: ObjectMeta {
                name: "a".into(),
                ..ObjectMeta::default()
            },
            spec,
            status,
            ..Application::default()
        }
    }

    fn src(repo: &str) -> ApplicationSource {
        ApplicationSource {
            repo_url: repo.into(),
            ..ApplicationSource::default()
        }
    }

    #[test]
    fn source_selection() {
        let helm = ApplicationSource {
            helm: Some(HelmSource::default()),
            ..src("https://charts")
        };
        let with_path = ApplicationSource {
            path: Some("p".into()),
            ..src("https://git/values")
        };
        let spec = ApplicationSpec {
            sources: vec![with_path.clone(), helm.clone()],
            ..ApplicationSpec::default()
        };
        let app = app_with(spec.clone(), None);
        let s = select_source(&app, None).unwrap();
        assert_eq!((s.index, s.kind), (Some(1), SourceKind::Helm));
        let s = select_source(&app, Some("https://git/values")).unwrap();
        assert_eq!((s.index, s.kind), (Some(0), SourceKind::Unknown));
        let status = ApplicationStatus {
            source_types: vec!["Kustomize".into(), "Helm".into()],
            ..ApplicationStatus::default()
        };
        let app = app_with(spec, Some(status));
        let s = select_source(&app, Some("https://git/values")).unwrap();
        assert_eq!(s.kind, SourceKind::Kustomize);
        let app = app_with(
            ApplicationSpec {
                sources: vec![src("x"), src("y")],
                ..ApplicationSpec::default()
            },
            None,
        );
        assert_eq!(select_source(&app, None).unwrap().index, Some(0));
        let app = app_with(ApplicationSpec::default(), None);
        assert!(select_source(&app, None).is_none());
        let err = assemble(
            &app,
            vec![],
            WriteBack::Argocd,
            ConfigOrigin::Annotations,
            vec![],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "application a: it has neither spec.source nor spec.sources (add the source to update)"
        );
    }

    #[test]
    fn single_source_kind_from_status() {
        let app = app_with(
            ApplicationSpec {
                source: Some(src("r")),
                ..ApplicationSpec::default()
            },
            Some(ApplicationStatus {
                source_type: Some("Directory".into()),
                ..ApplicationStatus::default()
            }),
        );
        let s = select_source(&app, None).unwrap();
        assert_eq!((s.index, s.kind), (None, SourceKind::Directory));
    }
}
