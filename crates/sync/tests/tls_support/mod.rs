//! A private CA and a TLS server signed by it, made with the `openssl` command for each test
//! run: an HTTPS endpoint answering the agent-status probe, and a WSS agent socket that sends
//! one status frame. What a backend behind a company's own CA looks like.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use futures_util::SinkExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Pki {
    pub ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian's openssl package)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a certificate for 127.0.0.1 signed by it.
pub fn make_pki(dir: &Path) -> Pki {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca_args = [
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Test private CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    ]
    .concat();
    openssl(dir, &ca_args);
    let csr_args = [
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat();
    openssl(dir, &csr_args);
    std::fs::write(
        dir.join("srv.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "srv.ext",
        ],
    );
    Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("srv.pem"),
        key: dir.join("srv.key"),
    }
}

fn acceptor(pki: &Pki) -> tokio_rustls::TlsAcceptor {
    ringside_sync::install_crypto_provider();
    let certs = CertificateDer::pem_file_iter(&pki.cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&pki.key).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A TLS server on a loopback port, signed by `pki`'s CA, each connection given to `handle`.
async fn serve_tls<F, Fut>(pki: &Pki, handle: F) -> SocketAddr
where
    F: Fn(tokio_rustls::server::TlsStream<tokio::net::TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor(pki);
    let handle = Arc::new(handle);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, handle) = (acceptor.clone(), handle.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    handle(tls).await;
                }
            });
        }
    });
    addr
}

/// An HTTPS server answering every request with the agent's status.
pub async fn https(pki: &Pki) -> SocketAddr {
    serve_tls(pki, |mut tls| async move {
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let body = r#"{"state":"available","reason":null}"#;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tls.write_all(reply.as_bytes()).await;
        let _ = tls.shutdown().await;
    })
    .await
}

/// A WSS agent socket that sends one `agent_status` frame and stays open.
pub async fn wss(pki: &Pki) -> SocketAddr {
    serve_tls(pki, |tls| async move {
        let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
            return;
        };
        let frame = r#"{"type":"agent_status","state":"paused","reason":"Lunch"}"#;
        let _ = ws
            .send(tokio_tungstenite::tungstenite::Message::Text(frame.into()))
            .await;
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    })
    .await
}

pub type Events = std::sync::Arc<std::sync::Mutex<Vec<ringside_sync::SocketEvent>>>;

/// An agent socket to `url`, recording what it reports.
pub fn socket(url: String) -> (ringside_sync::AgentSocket, Events) {
    let events: Events = Events::default();
    let sink = events.clone();
    let socket = ringside_sync::AgentSocket::spawn(
        &tokio::runtime::Handle::current(),
        url,
        || Some(ringside_core::Secret("t".into())),
        move |e| sink.lock().unwrap().push(e),
    );
    (socket, events)
}

/// Waits (10 s at most) until an event satisfies `f`; fails on one that satisfies `never`.
pub async fn until(
    events: &Events,
    f: impl Fn(&ringside_sync::SocketEvent) -> bool,
    never: impl Fn(&ringside_sync::SocketEvent) -> bool,
) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        {
            let seen = events.lock().unwrap();
            assert!(!seen.iter().any(&never), "{seen:?}");
            if seen.iter().any(&f) {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            events.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
