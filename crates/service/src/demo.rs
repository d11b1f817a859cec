//! Demo mode's backend: the reference server, started in-process on a loopback port. Only in
//! builds with the `demo` feature (`cargo xtask run`, the tests); release bundles leave it out.

use std::path::Path;

use tracing::info;

use crate::ServiceError;

/// The running demo backend; dropping it stops the server.
pub(crate) struct DemoBackend(ringside_backend::Embedded);

impl DemoBackend {
    pub async fn start(profile_dir: &Path) -> Result<Self, ServiceError> {
        let embedded = ringside_backend::spawn_embedded(&profile_dir.join("demo-backend.db"))
            .await
            .map_err(|e| ServiceError::DemoBackend(e.to_string()))?;
        info!(url = %embedded.base_url(), "demo backend started in-process");
        Ok(Self(embedded))
    }

    pub fn base_url(&self) -> String {
        self.0.base_url()
    }

    /// What its `/admin` routes (the simulated PBX) answer to.
    pub fn admin_token(&self) -> ringside_core::Secret {
        ringside_core::Secret(self.0.admin_token.clone())
    }
}

impl Drop for DemoBackend {
    fn drop(&mut self) {
        self.0.stop();
    }
}
