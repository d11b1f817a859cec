//! # Ringside sync
//!
//! Everything that talks to the customer's backend. The store decides *what* must reach the
//! backend; this crate decides *when* and *how*, and reports what the backend said.
//!
//! ## Layout
//! - [`client`]: the REST client (reqwest, rustls), its error classification.
//! - [`outbox`]: the sender that drains the store's outbox: ordered, idempotent, with backoff.
//! - [`tls`]: whom the client and the socket trust (the system's store, Mozilla's roots, the
//!   policy's extra CA).
//! - [`agent_socket`]: the `/ws/agent` WebSocket: heartbeats, reconnect with backoff and
//!   jitter, the last `agent_info` re-sent on every reconnect.

pub mod agent_socket;
pub mod client;
pub mod outbox;
pub mod tls;

/// One TLS crypto provider for the process, chosen here rather than left to rustls. Both
/// `reqwest` (ring) and `tokio-tungstenite` (aws-lc-rs) enable one, and a rustls with two
/// cannot pick: the first `wss://` handshake would panic. Idempotent; called before any
/// TLS client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub use agent_socket::{AgentSocket, ServerFrame, SocketEvent};
pub use client::{Client, Session, SyncError};
pub use outbox::{drain, send_batch, settle, DrainReport, Outbox};
