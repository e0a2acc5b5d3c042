//! Owns [`Application`]: the part of an Argo CD `Application`
//! (`argoproj.io/v1alpha1`) that Updraft reads — metadata, sources, sync
//! policy, destination and the status summary. Unknown fields are ignored
//! (real manifests carry many), so the same types read YAML manifests and the
//! JSON the Argo CD API returns.
//!
//! To read the Applications out of a YAML stream that may also hold other
//! kinds, use [`Application::parse_all`] (or [`crate::manifest`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::manifest::{ManifestError, parse_manifests};

/// The API group of Argo CD resources.
pub const ARGOCD_GROUP: &str = "argoproj.io";
/// `apiVersion` of an `Application`.
pub const APPLICATION_API_VERSION: &str = "argoproj.io/v1alpha1";
/// `kind` of an `Application`.
pub const APPLICATION_KIND: &str = "Application";

/// An Argo CD `Application`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `argoproj.io/v1alpha1` (absent in items of API list responses).
    #[serde(default)]
    pub api_version: String,
    /// `Application` (absent in items of API list responses).
    #[serde(default)]
    pub kind: String,
    /// Name, namespace, labels and annotations.
    pub metadata: ObjectMeta,
    /// What to deploy, where, and how to sync.
    #[serde(default)]
    pub spec: ApplicationSpec,
    /// What Argo CD observed (only from the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ApplicationStatus>,
}

/// Kubernetes object metadata (the fields Updraft reads).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The object's name.
    pub name: String,
    /// The object's namespace, when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `spec` of an Application.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// The single source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ApplicationSource>,
    /// Several sources (multi-source Applications).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<ApplicationSource>,
    /// The Argo CD project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The target cluster and namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<Destination>,
    /// How Argo CD syncs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<SyncPolicy>,
}

/// One source of an Application.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSource {
    /// Git or Helm repository URL.
    #[serde(rename = "repoURL", default)]
    pub repo_url: String,
    /// Directory inside a git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Branch, tag, commit or chart version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_revision: Option<String>,
    /// Helm chart name (Helm repositories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
    /// Name other sources use to refer to this one (`$ref/...`).
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Helm options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmSource>,
    /// Kustomize options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<KustomizeSource>,
}

/// `source.helm`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmSource {
    /// Values files, relative to the source path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_files: Vec<String>,
    /// `--set` style parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<HelmParameter>,
    /// Helm release name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_name: Option<String>,
}

/// One Helm parameter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmParameter {
    /// Dotted key, e.g. `image.tag`.
    pub name: String,
    /// The value.
    #[serde(default)]
    pub value: String,
    /// Pass as a string (`--set-string`).
    #[serde(default)]
    pub force_string: bool,
}

/// `source.kustomize`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KustomizeSource {
    /// Image overrides, `[old=]new[:tag][@digest]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
}

/// `spec.destination`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Destination {
    /// Cluster API URL (kept verbatim, e.g. `${url}` in templates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Cluster name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Target namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `spec.syncPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Present when Argo CD syncs by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<AutomatedSync>,
    /// Sync options such as `CreateNamespace=true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_options: Vec<String>,
}

/// `spec.syncPolicy.automated`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedSync {
    /// Delete resources no longer in git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    /// Revert drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_heal: Option<bool>,
    /// Allow syncing to an empty set of resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_empty: Option<bool>,
    /// Argo CD 3.x: `false` turns automated sync off while keeping the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `status` (only the parts Updraft reads).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationStatus {
    /// What is deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<StatusSummary>,
    /// `Helm`, `Kustomize`, `Directory`, `Plugin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// One source type per source (multi-source Applications).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_types: Vec<String>,
}

/// `status.summary`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusSummary {
    /// Images of the live resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
}

impl Application {
    /// Reads every `Application` out of a YAML stream (documents separated by
    /// `---`), skipping documents of other kinds.
    pub fn parse_all(yaml: &str) -> Result<Vec<Self>, ManifestError> {
        Ok(parse_manifests(yaml)?.applications)
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The namespace, when written.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }

    /// The annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.metadata.annotations
    }

    /// The labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.metadata.labels
    }

    /// Every source: `spec.source` if present, then `spec.sources`.
    pub fn sources(&self) -> impl Iterator<Item = &ApplicationSource> {
        self.spec.source.iter().chain(self.spec.sources.iter())
    }

    /// Whether Argo CD syncs this Application by itself
    /// (`spec.syncPolicy.automated` present and not `enabled: false`).
    pub fn is_automated(&self) -> bool {
        self.spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.as_ref())
            .is_some_and(|a| a.enabled != Some(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `app-helm-dev.yaml` from the tutorial in `seed/`, verbatim.
    const APP_HELM_DEV: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app-helm-dev
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
    namespace: app-helm-dev
    # https://XX.XX.XX.XX:6443
    server: ${url}
  source:
    path: manifests/helm/echo-server
    repoURL: 'git@github.com:ivan-cai/gitops-demo.git'
    targetRevision: stable-example
    helm:
      valueFiles:
        - values-dev.yaml
  project: default
  syncPolicy:
    automated: {}
    syncOptions:
      - CreateNamespace=true
"#;

    /// `app-helm-production.yaml` from the tutorial in `seed/`, verbatim.
    const APP_HELM_PRODUCTION: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app-helm-production
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
    name: ''
    namespace: app-production
    server: 'https://39.98.XX.XX:6443'
  source:
    path: manifests/helm/echo-server
    repoURL: 'git@github.com:ivan-cai/gitops-demo.git'
    targetRevision: test2
    helm:
      valueFiles:
        - values-production.yaml
  project: default
  syncPolicy:
    syncOptions:
      - CreateNamespace=true
"#;

    #[test]
    fn tutorial_stream_of_applications() {
        let stream = format!("{APP_HELM_DEV}---\n{APP_HELM_PRODUCTION}");
        let apps = Application::parse_all(&stream).unwrap();
        let names: Vec<&str> = apps.iter().map(Application::name).collect();
        assert_eq!(names, ["app-helm-dev", "app-helm-production"]);
        let production = &apps[1];
        assert!(!production.is_automated());
        let destination = production.spec.destination.as_ref().unwrap();
        assert_eq!(destination.name.as_deref(), Some(""));
        assert_eq!(
            destination.server.as_deref(),
            Some("https://39.98.XX.XX:6443")
        );
        for app in &apps {
            let config = crate::annotations::from_annotations(app).unwrap().unwrap();
            assert_eq!(config.images.len(), 2);
            assert_eq!(config.automated_sync, app.name() == "app-helm-dev");
            assert!(config.write_back.git().is_some());
        }
    }

    #[test]
    fn tutorial_dev_application_parses_verbatim() {
        let apps = Application::parse_all(APP_HELM_DEV).unwrap();
        assert_eq!(apps.len(), 1);
        let app = &apps[0];
        assert_eq!(app.api_version, APPLICATION_API_VERSION);
        assert_eq!(app.kind, APPLICATION_KIND);
        assert_eq!(app.name(), "app-helm-dev");
        assert_eq!(app.namespace(), None);
        assert_eq!(app.annotations().len(), 8);
        let destination = app.spec.destination.as_ref().unwrap();
        assert_eq!(destination.server.as_deref(), Some("${url}"));
        assert_eq!(destination.namespace.as_deref(), Some("app-helm-dev"));
        let source = app.spec.source.as_ref().unwrap();
        assert_eq!(source.repo_url, "git@github.com:ivan-cai/gitops-demo.git");
        assert_eq!(source.path.as_deref(), Some("manifests/helm/echo-server"));
        assert_eq!(source.target_revision.as_deref(), Some("stable-example"));
        assert_eq!(
            source.helm.as_ref().unwrap().value_files,
            vec!["values-dev.yaml".to_string()]
        );
        assert_eq!(app.spec.project.as_deref(), Some("default"));
        assert!(app.is_automated());
        assert_eq!(
            app.spec.sync_policy.as_ref().unwrap().sync_options,
            vec!["CreateNamespace=true".to_string()]
        );
    }

    #[test]
    fn manual_sync_and_disabled_automation() {
        let yaml = APP_HELM_DEV.replace("    automated: {}\n", "");
        let app = &Application::parse_all(&yaml).unwrap()[0];
        assert!(!app.is_automated());
        let yaml = APP_HELM_DEV.replace("automated: {}", "automated: {enabled: false}");
        let app = &Application::parse_all(&yaml).unwrap()[0];
        assert!(!app.is_automated());
        let yaml =
            APP_HELM_DEV.replace("automated: {}", "automated: {prune: true, selfHeal: true}");
        let app = &Application::parse_all(&yaml).unwrap()[0];
        assert!(app.is_automated());
    }

    #[test]
    fn multi_source_and_kustomize() {
        let yaml = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: multi
  namespace: argocd
  labels: {team: a}
  uid: 1234
  creationTimestamp: "2024-01-01T00:00:00Z"
spec:
  sources:
    - repoURL: https://charts.example.com
      chart: web
      targetRevision: 1.2.3
      helm:
        valueFiles: [$values/web/values.yaml]
        parameters:
          - {name: image.tag, value: "1.0", forceString: true}
    - repoURL: https://github.com/acme/config.git
      ref: values
    - repoURL: https://github.com/acme/k.git
      path: overlays/prod
      kustomize:
        images: [nginx=nginx:1.25]
        namePrefix: p-
  unknownField: 1
status:
  sourceTypes: [Helm, Kustomize]
  summary:
    images: [nginx:1.25]
  health: {status: Healthy}
"#;
        let app = &Application::parse_all(yaml).unwrap()[0];
        assert_eq!(app.namespace(), Some("argocd"));
        assert_eq!(app.labels().get("team").map(String::as_str), Some("a"));
        assert_eq!(app.sources().count(), 3);
        let first = &app.spec.sources[0];
        assert_eq!(first.chart.as_deref(), Some("web"));
        assert_eq!(first.target_revision.as_deref(), Some("1.2.3"));
        let param = &first.helm.as_ref().unwrap().parameters[0];
        assert!(param.force_string);
        assert_eq!(param.value, "1.0");
        assert_eq!(app.spec.sources[1].reference.as_deref(), Some("values"));
        assert_eq!(
            app.spec.sources[2].kustomize.as_ref().unwrap().images,
            vec!["nginx=nginx:1.25".to_string()]
        );
        let status = app.status.as_ref().unwrap();
        assert_eq!(status.source_types, vec!["Helm", "Kustomize"]);
        assert_eq!(status.summary.as_ref().unwrap().images, vec!["nginx:1.25"]);
    }

    #[test]
    fn api_json_without_type_meta() {
        let json = r#"{"metadata":{"name":"a","namespace":"argocd","annotations":{"x":"y"}},
            "spec":{"source":{"repoURL":"https://g/r.git","path":"p"}},
            "status":{"sourceType":"Helm","summary":{"images":["a:1"]},"sync":{"status":"Synced"}}}"#;
        let app: Application = serde_json::from_str(json).unwrap();
        assert_eq!(app.name(), "a");
        assert_eq!(app.kind, "");
        assert_eq!(
            app.status.as_ref().unwrap().source_type.as_deref(),
            Some("Helm")
        );
        let back = serde_json::to_string(&app).unwrap();
        let again: Application = serde_json::from_str(&back).unwrap();
        assert_eq!(again, app);
    }
}
