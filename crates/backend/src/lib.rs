//! # Ringside reference backend
//!
//! A real HTTP server with its own SQLite database, implementing `docs/backend-api.md`. Demo
//! mode runs it in-process on a loopback port; tests run the `ringside-backend` binary.
//!
//! ## Layout
//! - [`db`]: schema, seed data (demo agent, pause reasons, contacts), queries.
//! - [`config`]: start-up options (SIP settings handed out at login, an agents seed file).
//! - [`api`]: the REST routes, the error model and the idempotency rule.
//! - [`pbx`]: the modelled PBX behind transfers (queue calls, target behaviour, outcomes).
//! - [`login_guard`]: failed sign-ins counted per username and per address (429 past the limit).
//! - [`faults`]: switches that make the server misbehave on purpose (latency, errors, refusal).
//! - [`ws`]: `/ws/agent`, the push channel for agent status and queue info.

pub mod api;
pub mod config;
pub mod db;
pub mod faults;
pub mod login_guard;
pub mod pbx;
pub mod ws;

use std::net::SocketAddr;
use std::path::Path;

pub use config::Options;
pub use faults::Faults;

/// A listener that can play dead: while the `refuse` switch is on, every new connection is
/// closed as soon as it is accepted, which clients see as an unreachable server.
struct Gate {
    inner: tokio::net::TcpListener,
    faults: Faults,
}

/// A connection that dies as soon as the `refuse` switch is on, so that keep-alive
/// connections opened before an outage do not keep working through it.
pub struct GatedStream {
    inner: tokio::net::TcpStream,
    faults: Faults,
}

fn refused() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "refusing connections (fault switch)",
    )
}

impl tokio::io::AsyncRead for GatedStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.faults.refusing() {
            return std::task::Poll::Ready(Err(refused()));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for GatedStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.faults.refusing() {
            return std::task::Poll::Ready(Err(refused()));
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl axum::serve::Listener for Gate {
    type Io = GatedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.faults.refusing() {
                        drop(stream);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let gated = GatedStream {
                        inner: stream,
                        faults: self.faults.clone(),
                    };
                    return (gated, addr);
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The client's address, as the handlers see it (`ConnectInfo<PeerAddr>`): a type of ours,
/// since the gated listener is.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Gate>> for PeerAddr {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Gate>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// Serves the API on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, db_path: &Path) -> anyhow::Result<()> {
    serve_with(listener, db_path, &Options::default()).await
}

/// [`serve`] with start-up options (SIP settings, seeded agents).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    db_path: &Path,
    options: &Options,
) -> anyhow::Result<()> {
    let state = api::AppState::open_with(db_path, options, listener.local_addr()?)?;
    let gate = Gate {
        inner: listener,
        faults: state.faults.clone(),
    };
    axum::serve(
        gate,
        api::router(state).into_make_service_with_connect_info::<PeerAddr>(),
    )
    .await?;
    Ok(())
}

/// A backend running inside this process (demo mode and tests).
#[derive(Debug)]
pub struct Embedded {
    pub addr: SocketAddr,
    pub faults: Faults,
    /// The token its `/admin` routes answer to (made for this run).
    pub admin_token: String,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Embedded {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and ends the server once open requests are answered.
    /// Dropping `Embedded` does not stop it: tests keep the server while passing its URL on.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// Starts the backend on an ephemeral loopback port on the current tokio runtime.
pub async fn spawn_embedded(db_path: &Path) -> anyhow::Result<Embedded> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let admin_token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let options = Options {
        admin_token: Some(admin_token.clone()),
        // In-process: demo mode and tests, never a server other people sign in to.
        hash_cost: db::HashCost::Light,
        ..Options::default()
    };
    let state = api::AppState::open_with(db_path, &options, addr)?;
    let faults = state.faults.clone();
    let gate = Gate {
        inner: listener,
        faults: faults.clone(),
    };
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let serve = axum::serve(
            gate,
            api::router(state).into_make_service_with_connect_info::<PeerAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "embedded backend stopped");
        }
    });
    Ok(Embedded {
        addr,
        faults,
        admin_token,
        stop,
    })
}
