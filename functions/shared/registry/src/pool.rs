//! Owns [`RegistryPool`]: one [`RegistryClient`] per endpoint for a whole
//! process, so that every image on a registry shares its rate limit, its
//! cached ping, credentials and tokens, and its connections.

use std::collections::HashMap;
use std::sync::Mutex;

use updraft_core::ImageRef;

use crate::client::{ClientOptions, RegistryClient, RequestCounts};
use crate::conf::Registries;
use crate::error::RegistryError;

/// The clients of a process, created on first use.
#[derive(Debug)]
pub struct RegistryPool {
    registries: Registries,
    options: ClientOptions,
    clients: Mutex<HashMap<String, RegistryClient>>,
}

/// A client and the repository path an image has on it.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The endpoint's client.
    pub client: RegistryClient,
    /// The repository (with `defaultns` applied), e.g. `library/nginx`.
    pub repository: String,
}

impl RegistryPool {
    /// A pool over `registries`; every client gets `options`.
    pub fn new(registries: Registries, options: ClientOptions) -> Self {
        Self {
            registries,
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration.
    pub fn registries(&self) -> &Registries {
        &self.registries
    }

    /// The client and repository for an image's registry and name (see
    /// [`Registries::endpoint_for`]).
    pub fn resolve(
        &self,
        registry: Option<&str>,
        name: &str,
    ) -> Result<ResolvedImage, RegistryError> {
        let endpoint = self.registries.endpoint_for(registry, name)?;
        let key = format!("{}|{}", endpoint.prefix, endpoint.api());
        let mut clients = match self.clients.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let client = match clients.get(&key) {
            Some(client) => client.clone(),
            None => {
                let client = RegistryClient::new(endpoint.clone(), self.options.clone())?;
                clients.insert(key, client.clone());
                client
            }
        };
        Ok(ResolvedImage {
            repository: endpoint.repository(name),
            client,
        })
    }

    /// [`RegistryPool::resolve`] for a parsed image reference.
    pub fn resolve_image(&self, image: &ImageRef) -> Result<ResolvedImage, RegistryError> {
        self.resolve(image.registry(), image.name())
    }

    /// Requests sent by every client of the pool.
    pub fn counts(&self) -> RequestCounts {
        let clients = match self.clients.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        clients
            .values()
            .map(RegistryClient::counts)
            .fold(RequestCounts::default(), |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_per_endpoint() {
        let pool = RegistryPool::new(Registries::builtin(), ClientOptions::default());
        let a = pool.resolve(None, "nginx").unwrap();
        let b = pool.resolve(Some("docker.io"), "bitnami/redis").unwrap();
        assert_eq!(a.repository, "library/nginx");
        assert_eq!(b.repository, "bitnami/redis");
        assert!(std::sync::Arc::ptr_eq(
            a.client.endpoint(),
            b.client.endpoint()
        ));
        let c = pool
            .resolve_image(&ImageRef::parse("quay.io/org/app:1.0").unwrap())
            .unwrap();
        assert_eq!(c.client.endpoint().api(), "https://quay.io");
        assert_eq!(c.repository, "org/app");
        assert_eq!(pool.counts(), RequestCounts::default());
    }
}
