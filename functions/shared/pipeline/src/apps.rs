//! Owns reading applications: Argo CD `Application` manifests (with Image
//! Updater annotations) and `ImageUpdater` resources from directories or
//! object-storage prefixes → one configuration per managed application, and
//! what each application reports as deployed (`status.summary.images`).
//! A broken file or application is reported and the rest still load.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use updraft_core::annotations::from_annotations;
use updraft_core::{AppConfig, Application, ImageRef, ImageUpdater, parse_manifests};
use updraft_state::StateStore;

use crate::events::AppError;
use crate::settings::{AppSource, Settings};

/// The namespace of an application that names none (Argo CD's default).
pub const DEFAULT_NAMESPACE: &str = "argocd";

/// What an application reports about one of its images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deployed {
    /// The tag running now, when known.
    pub tag: Option<String>,
    /// The digest running now, when known.
    pub digest: Option<String>,
    /// `Some(false)` when the status lists images and not this one.
    pub listed: Option<bool>,
}

/// A managed application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedApp {
    /// Its configuration.
    pub config: AppConfig,
    /// Per image (same order as `config.images`), what is deployed.
    pub deployed: Vec<Deployed>,
}

impl LoadedApp {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        app_id(&self.config)
    }
}

/// `namespace/name` of a configuration (namespace defaults to `argocd`).
pub fn app_id(config: &AppConfig) -> String {
    format!(
        "{}/{}",
        config.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE),
        config.name
    )
}

/// Every application that loaded, and every problem.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Managed applications, in file order.
    pub apps: Vec<LoadedApp>,
    /// Files or applications that could not be read.
    pub errors: Vec<AppError>,
    /// Applications without Image Updater configuration (not managed).
    pub unmanaged: usize,
}

/// Reads every configured source.
pub async fn load(settings: &Settings) -> Loaded {
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    for source in &settings.applications {
        match source {
            AppSource::Dir(dir) => match read_dir(dir) {
                Ok(mut docs) => documents.append(&mut docs),
                Err(message) => errors.push(load_error(&dir.display().to_string(), message)),
            },
            AppSource::Store(url) => match read_store(url).await {
                Ok(mut docs) => documents.append(&mut docs),
                Err(message) => errors.push(load_error(url, message)),
            },
            AppSource::Argocd(selector) => match read_argocd(settings, selector).await {
                Ok(mut docs) => documents.append(&mut docs),
                Err(message) => errors.push(load_error("argocd", message)),
            },
        }
    }
    let mut loaded = from_documents(&documents);
    errors.append(&mut loaded.errors);
    loaded.errors = errors;
    loaded
}

fn load_error(origin: &str, message: String) -> AppError {
    AppError {
        application: origin.to_string(),
        image: None,
        stage: "load".into(),
        message,
    }
}

/// Every `.yaml`/`.yml` file under `dir`, recursively, in path order.
fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    collect(dir, &mut files).map_err(|e| {
        format!(
            "cannot read the applications directory ({e}); fix applications: dir: in updraft.yaml"
        )
    })?;
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => out.push((file.display().to_string(), text)),
            Err(e) => out.push((file.display().to_string(), format!("\0{e}"))),
        }
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

async fn read_store(url: &str) -> Result<Vec<(String, String)>, String> {
    let store = StateStore::open(url).map_err(|e| crate::error::one_line(&e))?;
    let objects = store
        .list_objects(&[], &[".yaml", ".yml"])
        .await
        .map_err(|e| crate::error::one_line(&e))?;
    Ok(objects
        .into_iter()
        .map(|(name, bytes)| {
            let origin = format!("{url}/{name}");
            match String::from_utf8(bytes.to_vec()) {
                Ok(text) => (origin, text),
                Err(_) => (origin, "\0not UTF-8 text".to_string()),
            }
        })
        .collect())
}

/// Every Application the Argo CD API lists for `selector`, as documents
/// (JSON is YAML) named `argocd:<namespace>/<name>`.
async fn read_argocd(
    settings: &Settings,
    selector: &crate::settings::ArgoAppSelector,
) -> Result<Vec<(String, String)>, String> {
    let Some(conf) = &settings.argocd else {
        return Err("applications: argocd: needs the argocd: section".into());
    };
    let token = conf
        .token
        .resolve()
        .map_err(|m| format!("argocd token: {m}"))?;
    let options = updraft_argocd::ClientOptions {
        insecure: conf.insecure,
        ..Default::default()
    };
    let client = updraft_argocd::ArgoClient::new(&conf.server, token.into(), options)
        .map_err(|e| e.to_string())?;
    let apps = client
        .list_applications(
            selector.project.as_deref(),
            selector.selector.as_deref(),
            selector.app_namespace.as_deref(),
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(apps.len());
    for live in apps {
        let app = &live.application;
        let origin = format!(
            "argocd:{}/{}",
            app.metadata
                .namespace
                .as_deref()
                .unwrap_or(DEFAULT_NAMESPACE),
            app.metadata.name
        );
        let mut value = serde_json::to_value(app).map_err(|e| e.to_string())?;
        if let Some(map) = value.as_object_mut() {
            map.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
            map.insert("kind".into(), "Application".into());
        }
        out.push((origin, value.to_string()));
    }
    Ok(out)
}

/// Turns manifest files (origin, text) into configurations. A text starting
/// with NUL carries a read error instead of YAML.
pub fn from_documents(documents: &[(String, String)]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut applications: Vec<(String, Application)> = Vec::new();
    let mut updaters: Vec<ImageUpdater> = Vec::new();
    for (origin, text) in documents {
        if let Some(problem) = text.strip_prefix('\0') {
            loaded
                .errors
                .push(load_error(origin, format!("cannot read ({problem})")));
            continue;
        }
        match parse_manifests(text) {
            Ok(manifests) => {
                applications.extend(
                    manifests
                        .applications
                        .into_iter()
                        .map(|a| (origin.clone(), a)),
                );
                updaters.extend(manifests.image_updaters);
            }
            Err(e) => loaded.errors.push(load_error(origin, e.to_string())),
        }
    }
    let mut seen = BTreeSet::new();
    for (origin, app) in applications {
        let config = match config_for(&app, &updaters) {
            Ok(Some(config)) => config,
            Ok(None) => {
                loaded.unmanaged += 1;
                continue;
            }
            Err(message) => {
                loaded.errors.push(AppError {
                    application: format!(
                        "{}/{}",
                        app.namespace().unwrap_or(DEFAULT_NAMESPACE),
                        app.name()
                    ),
                    image: None,
                    stage: "load".into(),
                    message: format!("{origin}: {message}"),
                });
                continue;
            }
        };
        let id = app_id(&config);
        if !seen.insert(id.clone()) {
            loaded.errors.push(AppError {
                application: id,
                image: None,
                stage: "load".into(),
                message: format!(
                    "{origin}: defined again; each application may be defined once (the first definition is used)"
                ),
            });
            continue;
        }
        let deployed = config
            .images
            .iter()
            .map(|i| deployed(&app, &i.image))
            .collect();
        loaded.apps.push(LoadedApp { config, deployed });
    }
    loaded
}

/// The first `ImageUpdater` that selects `app`, else its annotations.
fn config_for(app: &Application, updaters: &[ImageUpdater]) -> Result<Option<AppConfig>, String> {
    for updater in updaters {
        if let Some(config) = updater.configs_for(app).map_err(|e| e.to_string())? {
            return Ok(Some(config));
        }
    }
    from_annotations(app).map_err(|e| e.to_string())
}

/// What `app`'s `status.summary.images` says about `image`.
fn deployed(app: &Application, image: &ImageRef) -> Deployed {
    let Some(images) = app
        .status
        .as_ref()
        .and_then(|s| s.summary.as_ref())
        .map(|s| &s.images)
        .filter(|images| !images.is_empty())
    else {
        return Deployed::default();
    };
    for text in images {
        let Ok(running) = ImageRef::parse(text) else {
            continue;
        };
        if same_image(&running, image) {
            return Deployed {
                tag: running.tag().map(str::to_string),
                digest: running.digest().map(str::to_string),
                listed: Some(true),
            };
        }
    }
    Deployed {
        tag: None,
        digest: None,
        listed: Some(false),
    }
}

/// Same repository, with Docker Hub's implied registry and `library/`.
fn same_image(a: &ImageRef, b: &ImageRef) -> bool {
    normalized(a) == normalized(b)
}

fn normalized(image: &ImageRef) -> (String, String) {
    let host = match image.registry_host() {
        "" | "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        other => other.to_ascii_lowercase(),
    };
    let name = image.name();
    let name = match (host.as_str(), name.contains('/')) {
        ("docker.io", false) => format!("library/{name}"),
        _ => name.to_string(),
    };
    (host, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: app=ghcr.io/team/web:1.x, nginx
spec:
  source: {repoURL: https://git.example/deploy.git, path: web}
status:
  summary:
    images: ["ghcr.io/team/web:1.2.0", "docker.io/library/other:1"]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: plain}
spec:
  source: {repoURL: https://git.example/deploy.git, path: plain}
"#;

    #[test]
    fn applications_and_what_they_run() {
        let loaded = from_documents(&[("apps.yaml".into(), APP.into())]);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.unmanaged, 1);
        assert_eq!(loaded.apps.len(), 1);
        let app = &loaded.apps[0];
        assert_eq!(app.id(), "argocd/web");
        assert_eq!(app.deployed[0].tag.as_deref(), Some("1.2.0"));
        assert_eq!(app.deployed[0].listed, Some(true));
        assert_eq!(app.deployed[1].listed, Some(false));
    }

    #[test]
    fn broken_files_and_duplicates_are_reported_and_the_rest_loads() {
        let loaded = from_documents(&[
            ("a.yaml".into(), APP.into()),
            ("b.yaml".into(), "apiVersion: [".into()),
            ("c.yaml".into(), APP.into()),
            ("d.yaml".into(), "\0permission denied".into()),
        ]);
        assert_eq!(loaded.apps.len(), 1);
        let origins: Vec<&str> = loaded
            .errors
            .iter()
            .map(|e| e.application.as_str())
            .collect();
        assert_eq!(origins, ["b.yaml", "d.yaml", "argocd/web"]);
        assert!(loaded.errors[2].message.contains("defined again"));
    }

    #[test]
    fn docker_hub_names_match_in_every_spelling() {
        let a = ImageRef::parse("nginx").unwrap();
        let b = ImageRef::parse("docker.io/library/nginx:1.2").unwrap();
        assert!(same_image(&a, &b));
        assert!(!same_image(&a, &ImageRef::parse("ghcr.io/nginx").unwrap()));
    }
}
