//! # Ringside reference backend
//!
//! A real HTTP server with its own SQLite database, implementing `docs/backend-api.md`. Demo
//! mode runs it in-process on a loopback port; tests run the `ringside-backend` binary.
//!
//! ## Layout
//! - [`db`]: schema, seed data (demo agent, pause reasons, contacts), queries.
//! - [`api`]: the REST routes, the error model and the idempotency rule.
//! - [`faults`]: switches that make the server misbehave on purpose (latency, errors, refusal).

pub mod api;
pub mod db;
pub mod faults;

use std::net::SocketAddr;
use std::path::Path;

pub use faults::Faults;

/// Serves the API on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, db_path: &Path) -> anyhow::Result<()> {
    let state = api::AppState::open(db_path)?;
    axum::serve(listener, api::router(state)).await?;
    Ok(())
}

/// A backend running inside this process (demo mode and tests).
#[derive(Debug)]
pub struct Embedded {
    pub addr: SocketAddr,
    pub faults: Faults,
}

impl Embedded {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the backend on an ephemeral loopback port on the current tokio runtime.
pub async fn spawn_embedded(db_path: &Path) -> anyhow::Result<Embedded> {
    let state = api::AppState::open(db_path)?;
    let faults = state.faults.clone();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, api::router(state)).await {
            tracing::error!(error = %e, "embedded backend stopped");
        }
    });
    Ok(Embedded { addr, faults })
}
