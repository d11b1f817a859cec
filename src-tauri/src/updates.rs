//! Automatic updates (issue 10), through `tauri-plugin-updater`: the channel IT's policy (or
//! the build) names is asked at start and every few hours; an update is downloaded in the
//! background and its minisign signature checked against the policy's key (bound to the
//! version it announces); it is installed only when no call is up or ringing, no after-call
//! form is open and nothing waits for the backend, or at quit, and Ringside then starts again
//! on the new version. Whatever fails leaves the running version as it is, says why in the
//! window and in the log.

use std::sync::Mutex;
use std::time::Duration;

use ringside_core::{UpdateState, UpdateView};
use ringside_service::config::UpdateMode;
use ringside_service::{Config, Handle};
use semver::Version;
use tauri::{AppHandle, Manager};
use tauri_plugin_updater::{Update, UpdaterExt};
use tracing::{info, warn, Instrument};

/// How often the channel is asked after the check at start.
const CHECK_EVERY: Duration = Duration::from_secs(4 * 3600);
/// The first check waits for the window and the core to settle.
const FIRST_CHECK_AFTER: Duration = Duration::from_secs(3);
/// How often a ready update looks for a quiet moment.
const QUIET_POLL: Duration = Duration::from_secs(1);

/// The updater's settings, taken from [`Config`] once at start.
#[derive(Debug, Clone)]
pub struct Policy {
    url: Option<url::Url>,
    mode: UpdateMode,
    key: Option<String>,
    allow_downgrade: bool,
}

impl Policy {
    pub fn of(config: &Config) -> Self {
        Self {
            url: config
                .update_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok()),
            mode: config.update_mode,
            key: config.update_public_key.clone(),
            allow_downgrade: config.allow_downgrade,
        }
    }

    /// The plugin's configuration (`plugins.updater` in Tauri's config), set at run time
    /// because it comes from IT's policy. Plain http passes only where the config loader let
    /// it (this computer, or a lab's policy); the signature must name the version announced.
    pub fn plugin_config(&self) -> serde_json::Value {
        serde_json::json!({
            "pubkey": self.key.clone().unwrap_or_default(),
            "endpoints": self.url.iter().map(url::Url::as_str).collect::<Vec<_>>(),
            "dangerousInsecureTransportProtocol": self.url.as_ref().is_some_and(|u| u.scheme() == "http"),
            "requireSignedVersion": true,
            "allowDowngrades": self.allow_downgrade,
        })
    }
}

/// Whether `offered` is an update for `current`: newer, or older when IT allows rolling back.
/// The same version is never one (a channel that still lists it has nothing new).
pub fn is_update(current: &Version, offered: &Version, allow_downgrade: bool) -> bool {
    offered > current || (allow_downgrade && offered < current)
}

/// How this copy of Ringside was installed, if by a package the updater can replace: a copy
/// run from a build directory or an extracted archive is replaced by whoever put it there.
fn installer() -> Option<&'static str> {
    use tauri::utils::config::BundleType;
    match tauri::utils::platform::bundle_type()? {
        BundleType::Deb => Some("deb"),
        BundleType::Rpm => Some("rpm"),
        BundleType::AppImage if std::env::var_os("APPIMAGE").is_some() => Some("AppImage"),
        BundleType::Msi => Some("msi"),
        BundleType::Nsis => Some("nsis"),
        BundleType::App | BundleType::Dmg => Some("app"),
        _ => None,
    }
}

/// A downloaded and checked update, installed at quit if no quiet moment came first.
#[derive(Default)]
pub struct Pending(Mutex<Option<(Update, Vec<u8>)>>);

/// Set when Ringside quits to start again on the version just installed.
#[derive(Default)]
pub struct Restart(std::sync::atomic::AtomicBool);

impl Restart {
    pub fn requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Starts the updater for this run (nothing when the policy turns it off).
pub fn start(app: &AppHandle, handle: &Handle, policy: Policy) {
    app.manage(Pending::default());
    app.manage(Restart::default());
    let current = app.package_info().version.clone();
    let why_not = match (&policy.mode, &policy.url, &policy.key) {
        (UpdateMode::Off, _, _) => Some("update_mode is off"),
        (_, None, _) => Some("no update_url: updates come from IT"),
        (_, _, None) => Some("no update_public_key: no update could be verified"),
        _ => None,
    };
    if let Some(why) = why_not {
        info!(version = %current, why, "automatic updates off");
        return;
    }
    let installer = installer();
    info!(version = %current, url = ?policy.url.as_ref().map(url::Url::as_str), mode = policy.mode.as_str(), installer, "automatic updates on");
    let app = app.clone();
    let handle = handle.clone();
    tauri::async_runtime::spawn(
        async move {
            tokio::time::sleep(FIRST_CHECK_AFTER).await;
            loop {
                if check_once(&app, &handle, &policy, &current, installer).await {
                    // Installed: Ringside is starting again.
                    return;
                }
                tokio::time::sleep(CHECK_EVERY).await;
            }
        }
        .instrument(tracing::info_span!("updates")),
    );
}

/// One round: ask, download, check, and install when quiet. True once installed.
async fn check_once(
    app: &AppHandle,
    handle: &Handle,
    policy: &Policy,
    current: &Version,
    installer: Option<&str>,
) -> bool {
    let report = |version: Option<String>, state: UpdateState, detail: Option<String>| {
        let view = UpdateView {
            current: current.to_string(),
            version,
            state,
            detail,
        };
        let handle = handle.clone();
        async move {
            let _ = handle.report_update(Some(view)).await;
        }
    };
    let allow_downgrade = policy.allow_downgrade;
    let running = current.clone();
    let updater = app
        .updater_builder()
        .timeout(Duration::from_secs(60))
        .version_comparator(move |current, release| {
            let yes = is_update(&current, &release.version, allow_downgrade);
            if !yes && release.version < current {
                warn!(running = %running, offered = %release.version, "the channel offers an older version: refused (allow_downgrade is off)");
            }
            yes
        })
        .build();
    let updater = match updater {
        Ok(u) => u,
        Err(e) => {
            warn!(error = %e, "the updater cannot run");
            report(None, UpdateState::Failed, Some(e.to_string())).await;
            return false;
        }
    };
    let update = match updater.check().await {
        Ok(Some(u)) => u,
        Ok(None) => {
            info!("no update");
            let _ = handle.report_update(None).await;
            return false;
        }
        Err(e) => {
            warn!(error = %e, "the update channel could not be read");
            report(None, UpdateState::Failed, Some(e.to_string())).await;
            return false;
        }
    };
    let version = Some(update.version.clone());
    info!(offered = %update.version, "update offered; downloading");
    report(version.clone(), UpdateState::Downloading, None).await;
    let bytes = match update.download(|_, _| {}, || {}).await {
        Ok(b) => b,
        Err(e) => {
            let refused = matches!(
                e,
                tauri_plugin_updater::Error::Minisign(_)
                    | tauri_plugin_updater::Error::Base64(_)
                    | tauri_plugin_updater::Error::SignatureUtf8(_)
                    | tauri_plugin_updater::Error::SignedVersionMismatch { .. }
                    | tauri_plugin_updater::Error::MissingSignedVersion
            );
            warn!(error = %e, refused, "update not installed");
            let state = if refused {
                UpdateState::Refused
            } else {
                UpdateState::Failed
            };
            report(version, state, Some(e.to_string())).await;
            return false;
        }
    };
    info!(offered = %update.version, bytes = bytes.len(), "update downloaded, its signature checked");
    if policy.mode == UpdateMode::Notify || installer.is_none() {
        let why = if installer.is_none() {
            "this copy of Ringside was not installed from a package"
        } else {
            "update_mode is notify"
        };
        info!(why, "the update is left for IT to install");
        report(version, UpdateState::ReadyForIt, Some(why.into())).await;
        return false;
    }
    report(version.clone(), UpdateState::Ready, None).await;
    if let Ok(mut p) = app.state::<Pending>().0.lock() {
        *p = Some((update, bytes));
    }
    // A quiet moment: no call, no ringing, no form open, nothing waiting for the backend.
    loop {
        let quiet = app
            .try_state::<crate::shortcuts::Latest>()
            .and_then(|l| l.0.lock().ok().map(|s| s.quiet_for_update()))
            .unwrap_or(false);
        if quiet {
            break;
        }
        tokio::time::sleep(QUIET_POLL).await;
    }
    let Some((update, bytes)) = app
        .state::<Pending>()
        .0
        .lock()
        .ok()
        .and_then(|mut p| p.take())
    else {
        return false;
    };
    report(version.clone(), UpdateState::Installing, None).await;
    info!(offered = %update.version, "installing the update");
    let installed = tauri::async_runtime::spawn_blocking(move || update.install(bytes))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    match installed {
        Ok(()) => {
            info!("update installed; starting again");
            app.state::<Restart>()
                .0
                .store(true, std::sync::atomic::Ordering::SeqCst);
            app.exit(0);
            true
        }
        Err(e) => {
            warn!(error = %e, "the update could not be installed");
            report(version, UpdateState::Failed, Some(e)).await;
            false
        }
    }
}

/// At quit: a ready update that found no quiet moment is installed now (it starts with the
/// next launch).
pub fn install_at_quit(app: &AppHandle) {
    let Some(pending) = app.try_state::<Pending>() else {
        return;
    };
    let Some((update, bytes)) = pending.0.lock().ok().and_then(|mut p| p.take()) else {
        return;
    };
    info!(offered = %update.version, "installing the update at quit");
    if let Err(e) = update.install(bytes) {
        warn!(error = %e, "the update could not be installed at quit");
    }
}

/// After an update: the new version starts once this process has gone, so that the new one
/// does not hand itself over to the old one's instance socket. The variable names the old
/// process; see [`wait_for_previous`].
pub fn start_again(app: &AppHandle) {
    let env = app.env();
    match tauri::process::current_binary(&env) {
        Ok(path) => {
            let spawned = std::process::Command::new(&path)
                .args(env.args_os.iter().skip(1))
                .env(AFTER_UPDATE_OF, std::process::id().to_string())
                .spawn();
            match spawned {
                Ok(child) => {
                    info!(pid = child.id(), path = %path.display(), "the new version is starting")
                }
                Err(e) => warn!(error = %e, "the new version could not be started"),
            }
        }
        Err(e) => warn!(error = %e, "the new version could not be started"),
    }
}

const AFTER_UPDATE_OF: &str = "RINGSIDE_AFTER_UPDATE_OF";

/// Started by [`start_again`]: waits (10 s at most) for the version it replaces to exit.
pub fn wait_for_previous() {
    let Some(pid) = std::env::var(AFTER_UPDATE_OF)
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return;
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline && running(pid) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Elsewhere the installer starts the new version itself (Windows) or the restart
        // goes through `open` (macOS): a short grace is enough.
        std::thread::sleep(Duration::from_millis(500));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_newer_version_is_an_update_unless_it_allows_rolling_back() {
        let v = |s: &str| Version::parse(s).unwrap_or_else(|_| Version::new(0, 0, 0));
        assert!(is_update(&v("0.1.0"), &v("0.1.1"), false));
        assert!(is_update(&v("0.1.0"), &v("0.2.0-rc.1"), false));
        assert!(!is_update(&v("0.1.0"), &v("0.1.0"), false));
        assert!(!is_update(&v("0.1.1"), &v("0.1.0"), false));
        assert!(is_update(&v("0.1.1"), &v("0.1.0"), true));
        assert!(!is_update(&v("0.1.0"), &v("0.1.0"), true));
    }

    #[test]
    fn the_plugin_takes_plain_http_only_where_the_policy_let_it_through() {
        let mut config = Config::headless_demo("http://127.0.0.1:1", "/tmp/p".into());
        config.update_url = Some("https://updates.example/latest.json".into());
        config.update_public_key = Some("k".into());
        config.update_mode = UpdateMode::Auto;
        let c = Policy::of(&config).plugin_config();
        assert_eq!(c["dangerousInsecureTransportProtocol"], false);
        assert_eq!(c["requireSignedVersion"], true);
        assert_eq!(c["pubkey"], "k");
        assert_eq!(c["endpoints"][0], "https://updates.example/latest.json");
        config.update_url = Some("http://127.0.0.1:9/latest.json".into());
        let c = Policy::of(&config).plugin_config();
        assert_eq!(c["dangerousInsecureTransportProtocol"], true);
    }
}
