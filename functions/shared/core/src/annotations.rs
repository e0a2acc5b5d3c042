//! Owns reading an Application's `argocd-image-updater.argoproj.io/*`
//! annotations into an [`AppConfig`] ([`from_annotations`]).
//!
//! Keys (after the prefix):
//!
//! - `image-list`: comma-separated `[<alias>=]<image>[:<constraint>]`;
//!   entries are trimmed and empty entries skipped. Without it the
//!   Application is not managed.
//! - Application-wide defaults: `update-strategy`, `force-update`,
//!   `allow-tags`, `ignore-tags`, `pull-secret`.
//! - Per image, `<alias>.<setting>` for those five and `platforms`,
//!   `helm.image-name`, `helm.image-tag`, `helm.image-spec`,
//!   `kustomize.image-name`; a `/` in the alias is written `_` in the key.
//!   Per-image settings override the Application-wide ones; images without
//!   an alias only get the Application-wide ones.
//! - Write-back: `write-back-method`, `write-back-target`, `git-branch`,
//!   `git-repository`.
//!
//! Values are trimmed; an empty value counts as unset, except for
//! `force-update` (which must be a Go boolean) and `ignore-tags` (an empty
//! value is one empty glob), as in Image Updater. Unlike Image Updater, an
//! unknown key under the prefix, or a per-image key for an alias that
//! `image-list` does not define, is an error: it is almost always a typo.

use std::collections::BTreeMap;

use crate::ANNOTATION_PREFIX;
use crate::application::Application;
use crate::config::{
    AppConfig, ConfigError, ConfigOrigin, HelmTarget, ImageConfig, Settings, assemble, not_a_bool,
    parse_go_bool,
};
use crate::credentials::CredentialRef;
use crate::filters::{AllowTags, IgnoreTags};
use crate::image::ImageRef;
use crate::platform::Platform;
use crate::strategy::UpdateStrategy;
use crate::writeback::{WriteBack, WriteBackField};

/// Application-wide keys (after the prefix).
pub const APPLICATION_KEYS: [&str; 10] = [
    "image-list",
    "update-strategy",
    "force-update",
    "allow-tags",
    "ignore-tags",
    "pull-secret",
    "write-back-method",
    "write-back-target",
    "git-branch",
    "git-repository",
];

/// Per-image settings, written `<alias>.<setting>`.
pub const IMAGE_SETTINGS: [&str; 10] = [
    "update-strategy",
    "force-update",
    "allow-tags",
    "ignore-tags",
    "pull-secret",
    "platforms",
    "helm.image-name",
    "helm.image-tag",
    "helm.image-spec",
    "kustomize.image-name",
];

/// The alias as written in annotation keys: `/` becomes `_`.
pub fn normalized_alias(alias: &str) -> String {
    alias.replace('/', "_")
}

/// Reads the Application's Image Updater annotations. `Ok(None)` when it has
/// no `image-list` annotation (it is not managed).
pub fn from_annotations(app: &Application) -> Result<Option<AppConfig>, ConfigError> {
    from_annotations_with_origin(app, ConfigOrigin::Annotations)
}

/// As [`from_annotations`], recording `origin` in the result.
pub(crate) fn from_annotations_with_origin(
    app: &Application,
    origin: ConfigOrigin,
) -> Result<Option<AppConfig>, ConfigError> {
    let reader = Reader::new(app);
    let Some(image_list) = reader.get("image-list") else {
        return Ok(None);
    };
    let images = reader.image_list(image_list)?;
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    for image in &images {
        if let Some(alias) = image.alias() {
            let normalized = normalized_alias(alias);
            if let Some(previous) = aliases.insert(normalized.clone(), alias.to_string()) {
                return Err(reader.error(
                    "image-list",
                    format!(
                        "aliases '{previous}' and '{alias}' are both written '{normalized}' in annotation keys (give each image its own alias)"
                    ),
                ));
            }
        }
    }
    reader.check_keys(&aliases)?;

    let mut warnings = Vec::new();
    let app_wide = reader.settings("", &mut warnings)?;
    let mut configs = Vec::with_capacity(images.len());
    for image in images {
        let mut config = ImageConfig::new(image);
        let settings = match config.alias.as_deref() {
            Some(alias) => {
                let prefix = format!("{}.", normalized_alias(alias));
                let own = reader.settings(&prefix, &mut warnings)?;
                reader.targets(&prefix, &mut config)?;
                app_wide.overlay(&own)
            }
            None => app_wide.clone(),
        };
        settings.apply(&mut config);
        configs.push(config);
    }

    let (write_back, wb_warnings) = WriteBack::from_parts(
        reader.get("write-back-method"),
        reader.get("write-back-target"),
        reader.get("git-branch"),
        reader.get("git-repository"),
        None,
    )
    .map_err(|(field, err)| {
        let key = match field {
            WriteBackField::Method | WriteBackField::PullRequest => "write-back-method",
            WriteBackField::Target => "write-back-target",
            WriteBackField::Branch => "git-branch",
            WriteBackField::Repository => "git-repository",
        };
        reader.error(key, err.to_string())
    })?;
    warnings.extend(wb_warnings);
    assemble(app, configs, write_back, origin, warnings).map(Some)
}

/// The Image Updater annotations of one Application.
struct Reader<'a> {
    app: &'a str,
    /// Key without prefix → value.
    values: BTreeMap<&'a str, &'a str>,
}

impl<'a> Reader<'a> {
    fn new(app: &'a Application) -> Self {
        let values = app
            .annotations()
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(ANNOTATION_PREFIX)?, v.as_str())))
            .collect();
        Self {
            app: app.name(),
            values,
        }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.values.get(key).copied()
    }

    /// The trimmed value, `None` when absent or empty.
    fn get_trimmed(&self, key: &str) -> Option<&'a str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    fn error(&self, key: &str, problem: String) -> ConfigError {
        ConfigError::Annotation {
            app: self.app.to_string(),
            key: format!("{ANNOTATION_PREFIX}{key}"),
            problem,
        }
    }

    fn image_list(&self, value: &str) -> Result<Vec<ImageRef>, ConfigError> {
        let images = value
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                ImageRef::parse(entry).map_err(|e| self.error("image-list", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if images.is_empty() {
            return Err(self.error(
                "image-list",
                format!(
                    "\"{value}\" lists no image (write [<alias>=]<image>[:<constraint>], comma-separated)"
                ),
            ));
        }
        Ok(images)
    }

    /// Every key under the prefix must be known, and per-image keys must name
    /// an alias of `image-list` (`aliases`: normalized → as written).
    fn check_keys(&self, aliases: &BTreeMap<String, String>) -> Result<(), ConfigError> {
        for key in self.values.keys() {
            if APPLICATION_KEYS.contains(key) {
                continue;
            }
            let per_image = IMAGE_SETTINGS.iter().find_map(|setting| {
                key.strip_suffix(setting)
                    .and_then(|rest| rest.strip_suffix('.'))
                    .filter(|alias| !alias.is_empty())
            });
            match per_image {
                Some(alias) if aliases.contains_key(alias) => {}
                Some(alias) => {
                    let known = if aliases.is_empty() {
                        "image-list gives no image an alias".to_string()
                    } else {
                        let list: Vec<&str> = aliases.keys().map(String::as_str).collect();
                        format!("aliases in image-list: {}", list.join(", "))
                    };
                    return Err(self.error(
                        key,
                        format!(
                            "is for alias '{alias}', which image-list does not define ({known}); add the image or remove the annotation"
                        ),
                    ));
                }
                None => return Err(self.error(key, unknown_key_problem(key))),
            }
        }
        Ok(())
    }

    /// The settings under `prefix` (`""` for Application-wide, `<alias>.`
    /// per image).
    fn settings(&self, prefix: &str, warnings: &mut Vec<String>) -> Result<Settings, ConfigError> {
        let key = |setting: &str| format!("{prefix}{setting}");
        let mut settings = Settings::default();
        if let Some(value) = self.get_trimmed(&key("update-strategy")) {
            let parsed = UpdateStrategy::parse(value)
                .map_err(|e| self.error(&key("update-strategy"), e.to_string()))?;
            if let Some(warning) = parsed.warning() {
                warnings.push(format!(
                    "annotation {ANNOTATION_PREFIX}{}: {warning}",
                    key("update-strategy")
                ));
            }
            settings.strategy = Some(parsed.strategy);
        }
        if let Some(value) = self.get(&key("force-update")) {
            let value = value.trim();
            settings.force_update = Some(
                parse_go_bool(value)
                    .ok_or_else(|| self.error(&key("force-update"), not_a_bool(value)))?,
            );
        }
        if let Some(value) = self.get_trimmed(&key("allow-tags")) {
            settings.allow_tags = Some(
                AllowTags::parse(value)
                    .map_err(|e| self.error(&key("allow-tags"), e.to_string()))?,
            );
        }
        if let Some(value) = self.get(&key("ignore-tags")) {
            settings.ignore_tags = Some(
                IgnoreTags::from_annotation(value)
                    .map_err(|e| self.error(&key("ignore-tags"), e.to_string()))?,
            );
        }
        if let Some(value) = self.get_trimmed(&key("pull-secret")) {
            settings.pull_secret = Some(
                CredentialRef::parse(value)
                    .map_err(|e| self.error(&key("pull-secret"), e.to_string()))?,
            );
        }
        if !prefix.is_empty()
            && let Some(value) = self.get(&key("platforms"))
        {
            let platforms = Platform::parse_list(value)
                .map_err(|e| self.error(&key("platforms"), e.to_string()))?;
            if !platforms.is_empty() {
                settings.platforms = Some(platforms);
            }
        }
        Ok(settings)
    }

    /// Where the image's tag is written: Helm parameters or a Kustomize image.
    fn targets(&self, prefix: &str, config: &mut ImageConfig) -> Result<(), ConfigError> {
        let get = |setting: &str| {
            self.get_trimmed(&format!("{prefix}{setting}"))
                .map(str::to_string)
        };
        let kustomize = get("kustomize.image-name");
        let (name, tag, spec) = (
            get("helm.image-name"),
            get("helm.image-tag"),
            get("helm.image-spec"),
        );
        let any_helm = name.is_some() || tag.is_some() || spec.is_some();
        if let Some(kustomize_name) = kustomize {
            if any_helm {
                return Err(self.error(
                    &format!("{prefix}kustomize.image-name"),
                    format!(
                        "\"{kustomize_name}\" is set together with {prefix}helm.* annotations; an image is written either as Helm parameters or as a Kustomize image (remove one)"
                    ),
                ));
            }
            config.kustomize_image_name = Some(kustomize_name);
            config.helm = None;
        } else {
            config.helm = Some(HelmTarget::new(name, tag, spec));
        }
        Ok(())
    }
}

fn unknown_key_problem(key: &str) -> String {
    if key == "platforms" {
        return "platforms can only be set per image (write <alias>.platforms)".to_string();
    }
    if let Some(alias) = key.strip_suffix(".tag-match") {
        return format!(
            "tag-match was replaced by allow-tags (write {alias}.allow-tags: regexp:<expression>)"
        );
    }
    format!(
        "is not an Image Updater annotation (application-wide keys: {}; per-image keys: <alias>.{})",
        APPLICATION_KEYS.join(", "),
        IMAGE_SETTINGS.join(", <alias>.")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{ApplicationSource, ApplicationSpec, ObjectMeta, SyncPolicy};
    use crate::config::SourceKind;
    use crate::writeback::{GitCredentials, GitWriteBack, WriteBackTarget};

    const PREFIX: &str = ANNOTATION_PREFIX;

    /// Annotation keys (without prefix) and values.
    type Annotations<'a> = &'a [(&'a str, &'a str)];

    /// `app-helm-staging.yaml` from the tutorial in `seed/`, verbatim.
    const APP_HELM_STAGING: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app-helm-staging
  annotations:
    argocd-image-updater.argoproj.io/image-list: echoserver=demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server,webserver=demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-web-server
    argocd-image-updater.argoproj.io/echoserver.helm.image-name: image.echoServer.repository
    argocd-image-updater.argoproj.io/echoserver.helm.image-tag: image.echoServer.tag
    argocd-image-updater.argoproj.io/echoserver.update-strategy: latest
    argocd-image-updater.argoproj.io/webserver.helm.image-name: image.echoWebServer.repository
    argocd-image-updater.argoproj.io/webserver.helm.image-tag: image.echoWebServer.tag
    argocd-image-updater.argoproj.io/webserver.update-strategy: latest
    argocd-image-updater.argoproj.io/write-back-method: git
spec:
  destination:
    namespace: app-staging
    # https://XX.XX.XX.XX:6443
    server: ${url}
  source:
    path: manifests/helm/echo-server
    repoURL: 'git@github.com:ivan-cai/gitops-demo.git'
    targetRevision: stable-example
    helm:
      valueFiles:
        - values-staging.yaml
  project: default
  syncPolicy:
    syncOptions:
      - CreateNamespace=true
"#;

    fn app(annotations: &[(&str, &str)]) -> Application {
        Application {
            api_version: "argoproj.io/v1alpha1".into(),
            kind: "Application".into(),
            metadata: ObjectMeta {
                name: "app-helm-dev".into(),
                namespace: Some("argocd".into()),
                annotations: annotations
                    .iter()
                    .map(|(k, v)| (format!("{PREFIX}{k}"), v.to_string()))
                    .collect(),
                ..ObjectMeta::default()
            },
            spec: ApplicationSpec {
                source: Some(ApplicationSource {
                    repo_url: "https://github.com/acme/deploy.git".into(),
                    path: Some("apps/web".into()),
                    target_revision: Some("main".into()),
                    ..ApplicationSource::default()
                }),
                sync_policy: Some(SyncPolicy::default()),
                ..ApplicationSpec::default()
            },
            status: None,
        }
    }

    fn config(annotations: &[(&str, &str)]) -> AppConfig {
        from_annotations(&app(annotations)).unwrap().unwrap()
    }

    fn error(annotations: &[(&str, &str)]) -> String {
        from_annotations(&app(annotations)).unwrap_err().to_string()
    }

    #[test]
    fn tutorial_staging_application() {
        let app = &Application::parse_all(APP_HELM_STAGING).unwrap()[0];
        let config = from_annotations(app).unwrap().unwrap();
        assert_eq!(config.name, "app-helm-staging");
        assert!(!config.automated_sync);
        assert_eq!(config.origin, ConfigOrigin::Annotations);
        assert_eq!(config.images.len(), 2);
        let echo = &config.images[0];
        assert_eq!(echo.alias.as_deref(), Some("echoserver"));
        assert_eq!(
            echo.image.full_name(),
            "demo-test-registry.cn-hangzhou.cr.aliyuncs.com/cidemo/echo-server"
        );
        assert_eq!(echo.strategy, UpdateStrategy::NewestBuild);
        assert_eq!(
            echo.helm,
            Some(HelmTarget {
                name: "image.echoServer.repository".into(),
                tag: "image.echoServer.tag".into(),
                spec: None
            })
        );
        assert_eq!(echo.strategy_call().plugin, "strategy-newest-build");
        assert_eq!(echo.strategy_call().constraint, None);
        let web = &config.images[1];
        assert_eq!(web.helm.as_ref().unwrap().tag, "image.echoWebServer.tag");
        assert_eq!(
            config.write_back,
            WriteBack::Git(GitWriteBack {
                credentials: GitCredentials::RepoCreds,
                ..GitWriteBack::default()
            })
        );
        assert_eq!(
            config.source.repo_url,
            "git@github.com:ivan-cai/gitops-demo.git"
        );
        assert_eq!(
            config.source.path.as_deref(),
            Some("manifests/helm/echo-server")
        );
        assert_eq!(
            config.source.target_revision.as_deref(),
            Some("stable-example")
        );
        assert_eq!(config.source.helm_value_files, vec!["values-staging.yaml"]);
        assert_eq!(config.source.kind, SourceKind::Helm);
        // two deprecation warnings, one per image
        assert_eq!(config.warnings.len(), 2);
        assert!(config.warnings[0].contains("echoserver.update-strategy"));
        assert!(config.warnings[0].contains("'latest' is deprecated"));
    }

    #[test]
    fn not_managed_without_image_list() {
        assert_eq!(from_annotations(&app(&[])).unwrap(), None);
        assert_eq!(
            from_annotations(&app(&[("update-strategy", "semver")])).unwrap(),
            None
        );
    }

    #[test]
    fn image_list_parsing() {
        let c = config(&[("image-list", " nginx:~1.26 , , a/b=gcr.io/a/b:1.x ,")]);
        assert_eq!(c.images.len(), 2);
        assert_eq!(c.images[0].alias, None);
        assert_eq!(c.images[0].image.constraint(), Some("~1.26"));
        assert_eq!(c.images[1].alias.as_deref(), Some("a/b"));
        assert_eq!(c.images[1].image.registry(), Some("gcr.io"));
        assert!(error(&[("image-list", " , ")]).contains("lists no image"));
        let err = error(&[("image-list", "web=Bad Image")]);
        assert!(
            err.starts_with(&format!(
                "application app-helm-dev: annotation {PREFIX}image-list: \"web=Bad Image\" is not a valid image reference"
            )),
            "{err}"
        );
        assert!(error(&[("image-list", "a=x,a_=y,a=z")]).contains("both written 'a'"));
        assert!(error(&[("image-list", "a/b=x,a_b=y")]).contains("both written 'a_b'"));
    }

    #[test]
    fn per_alias_overrides_app_wide_and_unaliased_get_app_wide_only() {
        let c = config(&[
            ("image-list", "web=nginx,plain=redis"),
            ("update-strategy", "alphabetical"),
            ("allow-tags", "regexp:^v"),
            ("ignore-tags", "latest, *-rc*"),
            ("force-update", "true"),
            ("pull-secret", "pullsecret:argocd/hub"),
            ("web.update-strategy", "digest"),
            ("web.allow-tags", "any"),
            ("web.force-update", "False"),
            ("web.pull-secret", "env:WEB_CREDS"),
            ("web.platforms", "linux/amd64, linux/arm64"),
        ]);
        let web = &c.images[0];
        assert_eq!(web.strategy, UpdateStrategy::Digest);
        assert_eq!(web.allow_tags, AllowTags::Any);
        assert!(!web.force_update);
        assert_eq!(
            web.pull_secret.as_ref().unwrap().to_string(),
            "env:WEB_CREDS"
        );
        assert_eq!(web.platforms.len(), 2);
        assert_eq!(web.ignore_tags.patterns(), ["latest", "*-rc*"]);
        let plain = &c.images[1];
        assert_eq!(plain.image.name(), "redis");
        assert_eq!(plain.strategy, UpdateStrategy::Alphabetical);
        assert_eq!(plain.allow_tags.expression(), Some("^v"));
        assert!(plain.force_update);
        assert_eq!(
            plain.pull_secret.as_ref().unwrap().to_string(),
            "pullsecret:argocd/hub"
        );
        assert!(plain.platforms.is_empty());
        assert_eq!(plain.helm, Some(HelmTarget::new(None, None, None)));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[
            ("image-list", "web=nginx"),
            ("update-strategy", "digest"),
            ("web.update-strategy", "  "),
            ("web.allow-tags", ""),
            ("web.pull-secret", " "),
            ("web.platforms", " , "),
            ("web.helm.image-name", ""),
        ]);
        let web = &c.images[0];
        assert_eq!(web.strategy, UpdateStrategy::Digest);
        assert_eq!(web.allow_tags, AllowTags::Any);
        assert_eq!(web.pull_secret, None);
        assert!(web.platforms.is_empty());
        assert_eq!(web.helm.as_ref().unwrap().name, "image.name");
    }

    #[test]
    fn empty_ignore_tags_is_one_empty_glob() {
        let c = config(&[("image-list", "nginx"), ("ignore-tags", "")]);
        assert_eq!(c.images[0].ignore_tags.patterns(), [""]);
    }

    #[test]
    fn force_update_must_be_a_go_bool() {
        for (value, want) in [
            ("1", true),
            ("T", true),
            ("TRUE", true),
            (" f ", false),
            ("0", false),
        ] {
            let c = config(&[("image-list", "nginx"), ("force-update", value)]);
            assert_eq!(c.images[0].force_update, want, "{value}");
        }
        assert_eq!(
            error(&[
                ("image-list", "echoserver=nginx"),
                ("echoserver.force-update", "maybe")
            ]),
            format!(
                "application app-helm-dev: annotation {PREFIX}echoserver.force-update: \"maybe\" is not a boolean (use true or false)"
            )
        );
        assert!(
            error(&[("image-list", "nginx"), ("force-update", "")])
                .contains("\"\" is not a boolean")
        );
    }

    #[test]
    fn bad_values_name_key_and_value() {
        let cases: &[(Annotations, &str, &str)] = &[
            (
                &[("image-list", "w=nginx"), ("w.allow-tags", "glob:x")],
                "w.allow-tags",
                "allow-tags 'glob:x' uses unknown function 'glob' (use regexp:<expression> or any)",
            ),
            (
                &[("image-list", "w=nginx"), ("w.ignore-tags", "ok,[")],
                "w.ignore-tags",
                "glob pattern '['",
            ),
            (
                &[("image-list", "w=nginx"), ("pull-secret", "secret:ns/s#")],
                "pull-secret",
                "credential reference \"secret:ns/s#\" is invalid",
            ),
            (
                &[("image-list", "w=nginx"), ("w.platforms", "linux")],
                "w.platforms",
                "platform 'linux' is not os/arch[/variant]",
            ),
            (
                &[("image-list", "w=nginx"), ("w.update-strategy", "semver 2")],
                "w.update-strategy",
                "update strategy 'semver 2' is not a valid name",
            ),
            (
                &[("image-list", "w=nginx"), ("write-back-method", "svn")],
                "write-back-method",
                "\"svn\" is not a write-back method",
            ),
            (
                &[
                    ("image-list", "w=nginx"),
                    ("write-back-method", "git"),
                    ("write-back-target", "kustomization.yaml"),
                ],
                "write-back-target",
                "\"kustomization.yaml\" is a kustomization file",
            ),
            (
                &[
                    ("image-list", "w=nginx"),
                    ("write-back-method", "git"),
                    ("git-branch", "a:b:c"),
                ],
                "git-branch",
                "\"a:b:c\" is not a git branch specification",
            ),
        ];
        for (annotations, key, needle) in cases {
            let err = error(annotations);
            assert!(
                err.starts_with(&format!(
                    "application app-helm-dev: annotation {PREFIX}{key}: "
                )),
                "{err}"
            );
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = error(&[("image-list", "w=nginx"), ("update-stratgy", "semver")]);
        assert!(
            err.contains(&format!(
                "annotation {PREFIX}update-stratgy: is not an Image Updater annotation"
            )),
            "{err}"
        );
        assert!(err.contains("<alias>.kustomize.image-name"), "{err}");
        let err = error(&[("image-list", "w=nginx"), ("w.update-stratgy", "semver")]);
        assert!(
            err.contains("w.update-stratgy: is not an Image Updater annotation"),
            "{err}"
        );
        let err = error(&[("image-list", "w=nginx"), ("platforms", "linux/amd64")]);
        assert!(err.contains("platforms can only be set per image"), "{err}");
        let err = error(&[("image-list", "w=nginx"), ("w.tag-match", "^v")]);
        assert!(
            err.contains("tag-match was replaced by allow-tags"),
            "{err}"
        );
        let err = error(&[
            ("image-list", "w=nginx,q=redis"),
            ("echo.update-strategy", "latest"),
        ]);
        assert!(
            err.contains("is for alias 'echo', which image-list does not define (aliases in image-list: q, w)"),
            "{err}"
        );
        let err = error(&[("image-list", "nginx"), ("echo.update-strategy", "latest")]);
        assert!(err.contains("image-list gives no image an alias"), "{err}");
        // other prefixes are not ours
        let mut a = app(&[("image-list", "nginx")]);
        a.metadata
            .annotations
            .insert("argocd.argoproj.io/sync-wave".into(), "1".into());
        assert!(from_annotations(&a).is_ok());
    }

    #[test]
    fn alias_with_slash_uses_underscore_in_keys() {
        let c = config(&[
            (
                "image-list",
                "jannfis/orig-image=gcr.io/jannfis/test-image:~1",
            ),
            ("jannfis_orig-image.update-strategy", "digest"),
            (
                "jannfis_orig-image.kustomize.image-name",
                "jannfis/orig-image",
            ),
        ]);
        let image = &c.images[0];
        assert_eq!(image.alias.as_deref(), Some("jannfis/orig-image"));
        assert_eq!(image.strategy, UpdateStrategy::Digest);
        assert_eq!(
            image.kustomize_image_name.as_deref(),
            Some("jannfis/orig-image")
        );
        assert_eq!(image.helm, None);
        // the alias with its '/' is not a key
        let err = error(&[
            ("image-list", "a/b=nginx"),
            ("a/b.update-strategy", "digest"),
        ]);
        assert!(err.contains("is for alias 'a/b'"), "{err}");
    }

    #[test]
    fn helm_spec_and_kustomize_conflict() {
        let c = config(&[
            ("image-list", "w=nginx"),
            ("w.helm.image-spec", "web.image"),
        ]);
        assert_eq!(
            c.images[0].helm,
            Some(HelmTarget {
                name: "image.name".into(),
                tag: "image.tag".into(),
                spec: Some("web.image".into())
            })
        );
        let err = error(&[
            ("image-list", "w=nginx"),
            ("w.helm.image-tag", "t"),
            ("w.kustomize.image-name", "nginx"),
        ]);
        assert!(
            err.contains(&format!(
                "annotation {PREFIX}w.kustomize.image-name: \"nginx\" is set together with w.helm.*"
            )),
            "{err}"
        );
    }

    #[test]
    fn write_back_settings() {
        let c = config(&[
            ("image-list", "nginx"),
            ("write-back-method", "git:secret:argocd/git-creds"),
            ("write-back-target", "helmvalues:/env/values-dev.yaml"),
            ("git-branch", "main:image-updates"),
            ("git-repository", "https://github.com/acme/other.git"),
        ]);
        let git = c.write_back.git().unwrap();
        assert_eq!(
            git.credentials,
            GitCredentials::Secret {
                namespace: Some("argocd".into()),
                name: "git-creds".into()
            }
        );
        assert_eq!(
            git.target,
            WriteBackTarget::HelmValues {
                path: Some("/env/values-dev.yaml".into())
            }
        );
        assert_eq!(
            git.branch.as_ref().unwrap().write.as_deref(),
            Some("image-updates")
        );
        assert_eq!(
            git.repository.as_deref(),
            Some("https://github.com/acme/other.git")
        );
        let c = config(&[("image-list", "nginx"), ("git-branch", "main")]);
        assert_eq!(c.write_back, WriteBack::Argocd);
        assert!(c.warnings[0].contains("ignored because the write-back method is argocd"));
    }
}
