//! Opening the profile: the store (recovering calls a crash interrupted), the journal, the
//! backend to use (demo mode's own, or the configured one) and the state the UI starts from.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use ringside_core::{
    CallStatus, Engine, IpcError, Language, Preferences, Secret, SessionState, SessionView,
    SettingsView, SyncView, Theme, WriteOp,
};
use ringside_store::{JournalWriter, Store};
use ringside_sync::Client;
use tokio::sync::{mpsc, watch};
use tracing::{error, warn};

use super::{Core, Stale};
use crate::vault::{account, Vault, VaultWorker};
use crate::workers::{Done, Workers};
use crate::{config, wall_ms, Config, Mode, Ringtone, ServiceError, WebphoneSource};

impl Core {
    /// Opens the profile and everything the loop will own. Nothing runs yet.
    pub async fn open(
        config: Config,
        vault: Option<Arc<dyn Vault>>,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Done>), ServiceError> {
        // Owner-only before anything is written in it (the shell does it too, before its
        // logs; a headless core has no shell).
        ringside_store::profile::secure(&config.profile_dir).map_err(|source| {
            ringside_store::StoreError::ProfileDir {
                path: config.profile_dir.display().to_string(),
                source,
            }
        })?;
        let profile_lock = ringside_store::profile::lock(&config.profile_dir)?;
        let (mut store, report) = Store::open(&config.profile_dir.join("ringside.db"), wall_ms())?;
        let mut notice = report.moved_aside.map(|aside| {
            IpcError::new(
                "store_recovered",
                format!(
                    "The local database was damaged. It was kept at {} and a new one was started.",
                    aside.display()
                ),
            )
        });
        if let Some(w) = config.warnings.first() {
            notice.get_or_insert_with(|| IpcError::new("config", w.clone()));
        }
        let journal = match JournalWriter::open(&config.profile_dir.join("journal"), 8 << 20, 10) {
            Ok(j) => Some(j),
            Err(e) => {
                warn!(error = %e, "event journal unavailable");
                None
            }
        };
        let demo = config.mode == Mode::Demo;
        #[cfg(feature = "demo")]
        let mut demo_backend = None;
        let base_url = match (&config.backend_url, demo) {
            (Some(url), _) => url.clone(),
            #[cfg(feature = "demo")]
            (None, true) => {
                let backend = crate::demo::DemoBackend::start(&config.profile_dir).await?;
                let url = backend.base_url();
                demo_backend = Some(backend);
                url
            }
            #[cfg(not(feature = "demo"))]
            (None, true) => return Err(ServiceError::NoDemoBackend),
            (None, false) => return Err(config::ConfigError::NoBackend.into()),
        };
        recover_interrupted_calls(&mut store, wall_ms());
        let username = if demo {
            "demo".to_string()
        } else {
            store
                .setting("username")
                .ok()
                .flatten()
                .or_else(|| config.username.clone())
                .unwrap_or_default()
        };
        let setting = |key: &str| store.setting(key).ok().flatten().unwrap_or_default();
        let preferences = Preferences {
            theme: Theme::parse(&setting("theme")),
            language: Language::parse(&setting("language")),
            ring_volume: Preferences::parse_volume(&setting("ring_volume")),
        };
        let mut engine = Engine::new();
        engine.set_transfer_route(config.transfer_route);
        engine.set_consult_after_call_work(config.consult_after_call_work);
        // Checked when the settings were read: a bad code never gets this far.
        engine.set_default_region(
            config
                .default_region
                .as_deref()
                .and_then(|r| ringside_core::number::parse_region(r).ok()),
        );
        engine.set_registration_timeout_ms(config.registration_timeout_s.saturating_mul(1000));
        if !config.extra_ca.is_empty() {
            // Before the first connection: the trust store is the process's.
            if let Err(e) = ringside_sync::tls::trust_extra_ca(config.extra_ca.clone()) {
                warn!(error = %e, "the extra CA is not trusted");
            }
        }
        let client = Arc::new(Client::with_policy(
            &base_url,
            config.allow_insecure_transport,
        )?);
        // Demo mode acts as the PBX through the reference backend's admin routes: its own
        // in-process backend's token, or the one given for an external one (the tests').
        if demo {
            #[cfg(feature = "demo")]
            let own = demo_backend
                .as_ref()
                .map(crate::demo::DemoBackend::admin_token);
            #[cfg(not(feature = "demo"))]
            let own: Option<ringside_core::Secret> = None;
            client.set_admin_token(own.or_else(|| config.demo_admin_token.clone()));
        }
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let (stop_workers, stop_rx) = watch::channel(false);
        let settings = SettingsView {
            webphone: match &config.webphone {
                WebphoneSource::Simulator => String::new(),
                WebphoneSource::Folder(p) => p.display().to_string(),
                WebphoneSource::Url(u) => u.clone(),
            },
            webphone_locked: config.locked.iter().any(|k| k == "webphone"),
            backend_locked: config.locked.iter().any(|k| k == "backend_url"),
            audio_devices: Vec::new(),
            ringtone: match config.ringtone {
                Ringtone::Auto => config.webphone == WebphoneSource::Simulator,
                Ringtone::On => true,
                Ringtone::Off => false,
            },
            global_shortcuts: Vec::new(),
            start_at_login: None,
            start_at_login_locked: config.start_at_login.is_some()
                && config.locked.iter().any(|k| k == "start_at_login"),
            update: None,
        };
        // Demo mode signs in by itself: nothing to remember.
        let vault = vault.filter(|_| !demo).map(VaultWorker::start);
        let mut kept_session = None;
        let mut keyring_unavailable = None;
        if let Some(v) = &vault {
            match v.load(account(&base_url, &username)).await {
                Ok(token) => kept_session = token.filter(|_| !username.is_empty()),
                Err(why) => {
                    warn!(error = %why, "no keyring: the session will not be remembered");
                    keyring_unavailable = Some(why);
                }
            }
        }
        let demo_login = demo.then(|| {
            (
                "demo".to_string(),
                Secret(std::env::var("RINGSIDE_PASSWORD").unwrap_or_else(|_| "demo".into())),
            )
        });
        let core = Self {
            engine,
            store,
            journal,
            extension: String::new(),
            demo,
            demo_login,
            #[cfg(feature = "demo")]
            _demo_backend: demo_backend,
            started: Instant::now(),
            workers: Workers::new(client, done_tx, stop_rx),
            stop_workers,
            agent_socket: None,
            ws_url: String::new(),
            session: SessionView {
                state: SessionState::SignedOut,
                username,
                insecure: unencrypted(&base_url, &config.webphone),
                backend_url: base_url,
                error: None,
                keyring_unavailable,
            },
            vault,
            kept_session,
            sync: SyncView::default(),
            notice,
            webrtc_missing: false,
            pause_reasons: Vec::new(),
            dispositions: Vec::new(),
            contacts: Vec::new(),
            preferences,
            settings,
            drafts: Vec::new(),
            history: Arc::default(),
            stale: Stale::all(),
            ui: None,
            last_sent: None,
            desktop: None,
            last_desktop: None,
            dial_offer: None,
            quit_prompt: None,
            phone: None,
            phone_backlog: VecDeque::new(),
            draining: false,
            drain_paused_until: 0,
            probing: false,
            _profile_lock: profile_lock,
            ingress: Default::default(),
            ingress_reported_ms: 0,
            reauthenticating: false,
            config,
        };
        Ok((core, done_rx))
    }
}

/// A call still ringing or talking in the store belongs to a run that crashed or was killed:
/// the webphone that carried it is gone, so the call is over. It gets its terminal status
/// (by the same rule as any call) and the reason says what happened, so that it still reaches
/// the backend instead of staying "ringing" forever.
fn recover_interrupted_calls(store: &mut Store, now_ms: i64) {
    let unfinished = match store.unfinished_call_logs() {
        Ok(u) => u,
        Err(e) => {
            error!(error = %e, "unfinished calls unreadable");
            return;
        }
    };
    for mut log in unfinished {
        let connected = log.status == CallStatus::Talking;
        log.status = CallStatus::ended(log.direction, connected);
        log.ended_at_ms = Some(now_ms);
        log.end_reason = Some("interrupted: Ringside stopped during the call".into());
        warn!(call_id = %log.call_id, status = log.status.as_str(), "call interrupted by a restart closed");
        if let Err(e) = store.save_call_log(&log, WriteOp::Update, now_ms) {
            error!(error = %e, "interrupted call not closed");
        }
    }
}

/// Whether the backend or the webphone's address leaves this computer unencrypted (which the
/// configuration accepts only under `allow_insecure_transport`).
fn unencrypted(backend_url: &str, webphone: &WebphoneSource) -> bool {
    ringside_sync::client::is_unencrypted_remote(backend_url)
        || matches!(webphone, WebphoneSource::Url(u) if ringside_sync::client::is_unencrypted_remote(u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unencrypted_traffic_off_this_computer_is_called_insecure() {
        let sim = WebphoneSource::Simulator;
        assert!(!unencrypted("https://crm.example.com", &sim));
        assert!(!unencrypted("http://127.0.0.1:8080", &sim));
        assert!(!unencrypted("http://localhost:8080", &sim));
        assert!(unencrypted("http://crm.lab.example:8080", &sim));
        assert!(unencrypted("http://192.0.2.10", &sim));
        let lab_phone = WebphoneSource::Url("http://phone.lab.example/wp/".into());
        assert!(unencrypted("https://crm.example.com", &lab_phone));
        let cdn = WebphoneSource::Url("https://cdn.example.com/wp/".into());
        assert!(!unencrypted("https://crm.example.com", &cdn));
    }
}
