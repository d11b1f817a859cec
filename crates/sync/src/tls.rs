//! Which servers Ringside trusts, for the REST client and the agent socket alike: the
//! operating system's trust store (where IT installs a corporate CA, or a TLS-inspecting
//! proxy's), the Mozilla roots (for a machine whose store is empty), and one more CA file by
//! policy (`extra_ca_file`), for a backend whose CA IT cannot put in the OS store.
//!
//! One configuration for the process, set once at start ([`trust_extra_ca`]) before the first
//! connection, as the crypto provider is: trust is the machine's, not one connection's.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
pub use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use tracing::{info, warn};

static EXTRA: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {why}")]
    CaFile { path: String, why: String },
    #[error("the extra CA was set after the first connection; restart Ringside to use it")]
    TooLate,
}

/// Reads the CA certificates of a PEM file: one at least, every block a certificate.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |why: String| TlsError::CaFile {
        path: path.display().to_string(),
        why,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not PEM certificates ({e:?})")))?;
    if certs.is_empty() {
        return Err(fail("no certificate in it".into()));
    }
    // Each must be usable as a root: a file of garbage between PEM markers is refused now,
    // not at the first connection.
    let mut store = RootCertStore::empty();
    for c in &certs {
        store
            .add(c.clone())
            .map_err(|e| fail(format!("a certificate in it cannot be a CA: {e}")))?;
    }
    Ok(certs)
}

/// Adds `certs` to what this process trusts. Once, before the first connection.
pub fn trust_extra_ca(certs: Vec<CertificateDer<'static>>) -> Result<(), TlsError> {
    if CONFIG.get().is_some() {
        return Err(TlsError::TooLate);
    }
    EXTRA.set(certs).map_err(|_| TlsError::TooLate)
}

/// The TLS client configuration every connection uses.
pub fn client_config() -> Arc<rustls::ClientConfig> {
    CONFIG
        .get_or_init(|| {
            crate::install_crypto_provider();
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let native = rustls_native_certs::load_native_certs();
            for e in &native.errors {
                warn!(error = %e, "a part of the system's trust store could not be read");
            }
            let (added, ignored) = roots.add_parsable_certificates(native.certs);
            let extra = EXTRA.get().cloned().unwrap_or_default();
            let extra_count = extra.len();
            for c in extra {
                // Checked when the file was read.
                let _ = roots.add(c);
            }
            info!(
                system = added,
                system_ignored = ignored,
                extra = extra_count,
                "TLS trust: Mozilla roots, the system's store and the policy's CA"
            );
            Arc::new(
                rustls::ClientConfig::builder()
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            )
        })
        .clone()
}
