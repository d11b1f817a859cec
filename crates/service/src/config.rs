//! Settings: built-in defaults, an IT-managed system file (which can lock keys), the user's
//! file, then environment variables.
//!
//! | key | meaning | env |
//! |---|---|---|
//! | `mode` | `demo` (default: simulator + in-process backend) or `live`, any case; anything else is an error, never a silent demo | `RINGSIDE_MODE` |
//! | `backend_url` | the CRM backend's base URL | `RINGSIDE_BACKEND_URL` |
//! | `webphone` | folder or URL of the licensed `webphone_api.js` | `RINGSIDE_WEBPHONE` |
//! | `username` | sign-in name (the password is never stored) | `RINGSIDE_USERNAME` |
//! | `profile_dir` | where the database, journal and logs live | `RINGSIDE_PROFILE_DIR` |
//! | `transfer_route` | `auto` (PBX for queue calls, webphone otherwise), `pbx` or `webphone` | `RINGSIDE_TRANSFER_ROUTE` |
//! | `registration_timeout_s` | seconds before a registration that neither succeeds nor fails is reported (default 20) | `RINGSIDE_REGISTRATION_TIMEOUT_S` |
//! | `default_region` | ISO 3166 code (`FR`, `GB`) national numbers are read in; none: only `+` numbers are normalised | `RINGSIDE_DEFAULT_REGION` |
//! | `consult_after_call_work` | `true`: the consultation leg of an attended transfer opens its own after-call form (default `false`: the notes go on the customer's call) | `RINGSIDE_CONSULT_AFTER_CALL_WORK` |
//! | `journal_dtmf_digits` | `true`: the journal keeps the tones sent during calls (default `false`: how many, never which; callers key in card numbers and PINs) | `RINGSIDE_JOURNAL_DTMF_DIGITS` |
//! | `allow_insecure_transport` | `true` (a lab): `http://` and `ws://` beyond this computer; otherwise refused | `RINGSIDE_ALLOW_INSECURE_TRANSPORT` |
//! | `webphone_connect` | the only servers the webphone's frame may connect to: `wss://host[:port]` origins (the PBX's SIP-over-WebSocket, and any the vendor's library needs). Unset: any secure WebSocket server, and `ringside policy` says so; a server the backend hands out that is not listed is refused at sign-in, said | `RINGSIDE_WEBPHONE_CONNECT` (comma-separated) |
//! | `extra_ca_file` | a PEM file of CA certificates trusted besides the system's store and Mozilla's roots (a backend behind a private CA); unreadable or not certificates stops Ringside | `RINGSIDE_EXTRA_CA_FILE` |
//! | `locked` | keys users cannot change (IT's policy file only) | |
//!
//! IT's policy file is at a fixed place per OS ([`policy_path`]): no variable, flag or file a
//! user controls can move or hide it (debug builds, which the tests run, honour
//! `RINGSIDE_SYSTEM_CONFIG`). A policy that cannot be read or parsed, that names a setting
//! that does not exist or locks one that does not exist stops Ringside with the file and the
//! line: running unlocked because IT made a typo would be the policy silently gone. A lock
//! holds against every other source: the user's file, the environment, the command line
//! (`--profile`) and Settings.

use std::path::{Path, PathBuf};

use ringside_core::TransferRoute;
use serde::Deserialize;
use tracing::warn;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Demo,
    Live,
}

impl Mode {
    /// `demo` or `live`, in any case. An agent who meant `live` and typed `Live` or `prod`
    /// must not be dropped silently into a demo with a fake backend.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "demo" => Ok(Self::Demo),
            "live" => Ok(Self::Live),
            _ => Err(ConfigError::BadValue {
                key: "mode",
                value: value.to_string(),
                expected: "demo or live",
            }),
        }
    }
}

/// Where the webphone library comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebphoneSource {
    /// Ringside's own simulator of the library's API (demo mode and tests).
    Simulator,
    /// The customer's copy, a local folder.
    Folder(PathBuf),
    /// The customer's copy, served from a URL (its origin goes into the CSP).
    Url(String),
}

impl WebphoneSource {
    /// A webphone address that can be written into the webphone page's policy and host page
    /// without changing what they say: an absolute http(s) URL with a host, and none of the
    /// characters that end a policy source or an HTML attribute (quotes, spaces, `;`, `*`,
    /// `<`, `>`, backslash).
    pub fn check_url(value: &str, allow_insecure: bool) -> Result<(), String> {
        let v = value.trim();
        if let Some(c) = policy_breaking(v) {
            return Err(format!("the webphone address may not contain {c:?}"));
        }
        let url = url::Url::parse(v).map_err(|e| format!("not an address: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
            return Err("the webphone address must be https://host/…".into());
        }
        if ringside_sync::client::leaves_unencrypted(&url) && !allow_insecure {
            return Err("the webphone address must be https:// (the library it serves runs with the agent's calls)".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the webphone address may not carry a user name or password".into());
        }
        Ok(())
    }

    pub fn parse(value: &str) -> Self {
        let v = value.trim();
        if v.is_empty() || v == "simulator" {
            Self::Simulator
        } else if v.starts_with("https://") || v.starts_with("http://") {
            Self::Url(v.trim_end_matches("webphone_api.js").to_string())
        } else {
            let p = PathBuf::from(v);
            // Users point at the script or at its folder; the library needs the folder.
            if p.file_name().is_some_and(|n| n == "webphone_api.js") {
                Self::Folder(p.parent().map(Path::to_path_buf).unwrap_or(p))
            } else {
                Self::Folder(p)
            }
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    mode: Option<String>,
    backend_url: Option<String>,
    webphone: Option<String>,
    username: Option<String>,
    profile_dir: Option<PathBuf>,
    transfer_route: Option<String>,
    registration_timeout_s: Option<u64>,
    default_region: Option<String>,
    consult_after_call_work: Option<bool>,
    journal_dtmf_digits: Option<bool>,
    allow_insecure_transport: Option<bool>,
    extra_ca_file: Option<PathBuf>,
    webphone_connect: Option<Vec<String>>,
    link_action: Option<String>,
    raise_on_ring: Option<bool>,
    close_to_tray: Option<bool>,
    ringtone: Option<String>,
    global_shortcuts: Option<bool>,
    start_at_login: Option<bool>,
    shortcut_answer: Option<String>,
    shortcut_hang_up: Option<String>,
    shortcut_mute: Option<String>,
    shortcut_hold: Option<String>,
    update_url: Option<String>,
    update_mode: Option<String>,
    update_public_key: Option<String>,
    allow_downgrade: Option<bool>,
    #[serde(default)]
    locked: Vec<String>,
}

/// Every setting's name, as written in the files (and in `locked`).
pub const KEYS: &[&str] = &[
    "mode",
    "backend_url",
    "webphone",
    "username",
    "profile_dir",
    "transfer_route",
    "registration_timeout_s",
    "default_region",
    "consult_after_call_work",
    "journal_dtmf_digits",
    "allow_insecure_transport",
    "extra_ca_file",
    "webphone_connect",
    "link_action",
    "raise_on_ring",
    "close_to_tray",
    "ringtone",
    "global_shortcuts",
    "start_at_login",
    "shortcut_answer",
    "shortcut_hang_up",
    "shortcut_mute",
    "shortcut_hold",
    "update_url",
    "update_mode",
    "update_public_key",
    "allow_downgrade",
];

/// The settings that decide what code this computer runs: read from IT's policy only. A user
/// file or a variable naming them is ignored (and said), whatever `locked` says, so that no
/// process running as the agent can point the updater at another server or key.
pub const POLICY_ONLY: &[&str] = &["update_url", "update_public_key", "allow_downgrade"];

/// The update channel and key a release is built with (`RINGSIDE_UPDATE_URL` and
/// `RINGSIDE_UPDATE_PUBLIC_KEY` at build time; `cargo xtask bundle` sets the key from its
/// signing keys). IT's policy may replace either.
pub const BUILT_IN_UPDATE_URL: Option<&str> = option_env!("RINGSIDE_UPDATE_URL");
pub const BUILT_IN_UPDATE_PUBLIC_KEY: Option<&str> = option_env!("RINGSIDE_UPDATE_PUBLIC_KEY");

/// What Ringside does with an update its channel offers: `auto` downloads it, checks its
/// signature and installs it once no call is up or ringing and nothing waits for the backend
/// (or at quit); `notify` downloads and checks it and says so, for IT to install; `off` never
/// asks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UpdateMode {
    #[default]
    Auto,
    Notify,
    Off,
}

impl UpdateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Notify => "notify",
            Self::Off => "off",
        }
    }
}

/// Where a setting's value came from: what IT's help desk asks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Default,
    Policy,
    UserFile,
    Environment,
    CommandLine,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Policy => "IT policy",
            Self::UserFile => "user file",
            Self::Environment => "environment",
            Self::CommandLine => "command line",
        }
    }
}

/// Click-to-dial's policy: `confirm` pre-fills the dial pad with the number and one key calls
/// it (the default: a stray link never calls a customer by itself); `dial` calls at once.
/// Either way a link during a call is offered, never dialled over it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LinkAction {
    #[default]
    Confirm,
    Dial,
}

/// Whether Ringside plays its own ringtone: `auto` when the webphone is the simulator (which
/// has none); a customer's library plays its own from its `sound/` folder, and two ringtones
/// at once would be worse than one. `on` and `off` are IT's to choose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ringtone {
    #[default]
    Auto,
    On,
    Off,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    /// `None` in demo mode means: run the reference backend in-process.
    pub backend_url: Option<String>,
    pub webphone: WebphoneSource,
    pub username: Option<String>,
    pub profile_dir: PathBuf,
    pub transfer_route: TransferRoute,
    pub registration_timeout_s: u64,
    /// ISO 3166 alpha-2, upper case, checked.
    pub default_region: Option<String>,
    pub consult_after_call_work: bool,
    /// The journal keeps the tones an agent sends (default: only how many).
    pub journal_dtmf_digits: bool,
    /// A lab's policy: `http://` and `ws://` to hosts beyond this computer.
    pub allow_insecure_transport: bool,
    /// IT's extra CA file, and the certificates read from it (checked at load).
    pub extra_ca_file: Option<PathBuf>,
    pub extra_ca: Vec<ringside_sync::tls::CertificateDer<'static>>,
    /// The origins the webphone's frame may connect to (its CSP `connect-src`); empty: any
    /// `wss:` server.
    pub webphone_connect: Vec<String>,
    /// What a `tel:` link or `ringside dial` does when no call is up.
    pub link_action: LinkAction,
    /// An incoming call brings the window to the front (besides the notification and the
    /// taskbar's urgency hint, which are always there).
    pub raise_on_ring: bool,
    /// Closing the window keeps Ringside running in the tray (when the desktop has one);
    /// otherwise closing it is quitting, which asks first when work is at risk.
    pub close_to_tray: bool,
    pub ringtone: Ringtone,
    /// System-wide shortcuts on (IT may turn them off: they take keys from every application).
    pub global_shortcuts: bool,
    /// (action, keys) for answer, hang_up, mute, hold, in that order.
    pub shortcuts: Vec<(String, String)>,
    /// Ringside starts (minimised) when the agent signs in to the computer. `None`: the
    /// agent's choice in Settings; set by IT, applied at every start.
    pub start_at_login: Option<bool>,
    /// Where updates are looked for (`latest.json`), IT's or the build's; `None`: nowhere.
    pub update_url: Option<String>,
    pub update_mode: UpdateMode,
    /// The minisign public key updates must be signed with (Tauri's base64 form).
    pub update_public_key: Option<String>,
    /// An update to an older version is installed (IT rolling a release back).
    pub allow_downgrade: bool,
    pub locked: Vec<String>,
    /// Where each setting that is not at its default came from.
    pub origins: Vec<(&'static str, Origin)>,
    /// Demo mode against an external reference backend (the end-to-end tests): the token of
    /// its `/admin` routes, from `RINGSIDE_DEMO_ADMIN_TOKEN`. Never a file setting.
    pub demo_admin_token: Option<ringside_core::Secret>,
    /// Problems met while reading the user's file and the environment; shown to the agent,
    /// never fatal (IT's file is another matter: see [`ConfigError::Policy`]).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("live mode needs a backend URL (set backend_url or RINGSIDE_BACKEND_URL)")]
    NoBackend,
    #[error("no per-user data directory on this system; set RINGSIDE_PROFILE_DIR")]
    NoProfileDir,
    #[error("`{key}` is \"{value}\"; it must be {expected}")]
    BadValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("Ringside will not start: your IT department's policy file {} cannot be used. {why} Ask your IT department to correct it.", path.display())]
    Policy { path: PathBuf, why: String },
    #[error("`extra_ca_file` cannot be used: {0}")]
    ExtraCa(String),
    #[error("`{key}` is locked by your IT department: {source_name} cannot change it")]
    Locked {
        key: &'static str,
        source_name: &'static str,
    },
}

impl ConfigError {
    /// The `{code}` the window and the exit message carry.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Policy { .. } => "policy",
            Self::Locked { .. } => "locked",
            _ => "config",
        }
    }
}

pub fn default_profile_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("app", "Ringside", "ringside")
        .map(|d| d.data_dir().to_path_buf())
}

pub fn user_config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RINGSIDE_CONFIG") {
        return Some(PathBuf::from(p));
    }
    directories::ProjectDirs::from("app", "Ringside", "ringside")
        .map(|d| d.config_dir().join("config.toml"))
}

/// IT's policy file: a fixed place per OS, where only an administrator can write.
pub fn fixed_policy_path() -> PathBuf {
    if cfg!(windows) {
        let data = std::env::var_os("ProgramData")
            .filter(|d| Path::new(d).is_absolute())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"));
        data.join("Ringside").join("config.toml")
    } else if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support/Ringside/config.toml")
    } else {
        PathBuf::from("/etc/ringside/config.toml")
    }
}

/// The policy file this build reads. Only a debug build (what the tests run) may be pointed
/// elsewhere, by `RINGSIDE_SYSTEM_CONFIG`: in a release, a variable the user sets could
/// otherwise replace IT's file with an empty one.
pub fn policy_path() -> PathBuf {
    policy_path_from(&|k| std::env::var_os(k))
}

fn policy_path_from(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    if cfg!(debug_assertions) {
        if let Some(p) = env("RINGSIDE_SYSTEM_CONFIG") {
            return PathBuf::from(p);
        }
    }
    fixed_policy_path()
}

/// IT's file, strictly: absent is no policy; anything else that is not a valid policy stops
/// Ringside (fail closed).
fn read_policy(path: &Path) -> Result<FileConfig, ConfigError> {
    let fail = |why: String| ConfigError::Policy {
        path: path.to_path_buf(),
        why,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(format!("It cannot be read: {e}."))),
    };
    // Windows: IT may set the policy as registry values instead (Group Policy, or the MSI's
    // properties): one source per seat, never both, so that nobody has to guess which wins.
    let registry = registry::values().map_err(|why| ConfigError::Policy {
        path: PathBuf::from(registry::KEY),
        why,
    })?;
    if !registry.is_empty() {
        let reg_path = PathBuf::from(registry::KEY);
        if text.is_some() {
            return Err(ConfigError::Policy {
                path: reg_path,
                why: format!("{} exists too: keep one of the two.", path.display()),
            });
        }
        let text = registry::policy_text(&registry).map_err(|why| ConfigError::Policy {
            path: reg_path.clone(),
            why,
        })?;
        return parse_policy(&text, &reg_path);
    }
    match text {
        Some(text) => parse_policy(&text, path),
        None => Ok(FileConfig::default()),
    }
}

/// IT's policy, strictly: what cannot be used is an error naming `path` and the line.
fn parse_policy(text: &str, path: &Path) -> Result<FileConfig, ConfigError> {
    let fail = |why: String| ConfigError::Policy {
        path: path.to_path_buf(),
        why,
    };
    let text = text.to_string();
    let file: FileConfig = toml::from_str(&text).map_err(|e| fail(toml_problem(&text, &e)))?;
    if let Some(bad) = file.locked.iter().find(|k| !KEYS.contains(&k.as_str())) {
        // The name quoted, at or after the `locked` line (the list may span lines).
        let quoted = format!("\"{bad}\"");
        let from = text
            .lines()
            .position(|l| l.trim_start().starts_with("locked"))
            .unwrap_or(0);
        let line = text
            .lines()
            .enumerate()
            .skip(from)
            .find(|(_, l)| l.contains(&quoted))
            .map(|(i, _)| format!("Line {}: ", i + 1))
            .unwrap_or_default();
        return Err(fail(format!(
            "{line}`locked` names \"{bad}\", which is not a setting (settings: {}).",
            KEYS.join(", ")
        )));
    }
    Ok(file)
}

/// The policy as Windows registry values (`HKLM\Software\Policies\Ringside`): each value a
/// setting of the policy file under the same name, `REG_SZ` for text, `REG_DWORD` (0 or 1, or
/// a number) or `REG_SZ` "true"/"false" for yes/no and numbers, `REG_MULTI_SZ` (or `REG_SZ`
/// with commas) for lists (`locked`, `webphone_connect`). Turned into the policy file's text and
/// read by the same strict reader.
pub mod registry {
    /// Where Group Policy and the MSI write it.
    pub const KEY: &str = r"HKLM\Software\Policies\Ringside";

    /// A registry value's data, as far as Ringside reads it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Data {
        Sz(String),
        Dword(u32),
        MultiSz(Vec<String>),
        /// Any other type (binary, 64-bit...): refused, naming the value.
        Other,
    }

    const YES_NO: &[&str] = &[
        "consult_after_call_work",
        "journal_dtmf_digits",
        "allow_insecure_transport",
        "raise_on_ring",
        "close_to_tray",
        "global_shortcuts",
        "start_at_login",
        "allow_downgrade",
    ];
    const NUMBERS: &[&str] = &["registration_timeout_s"];
    const LISTS: &[&str] = &["locked", "webphone_connect"];

    /// The policy file's text the values stand for.
    pub fn policy_text(values: &[(String, Data)]) -> Result<String, String> {
        let mut table = toml::Table::new();
        for (name, data) in values {
            let key = name.trim().to_ascii_lowercase();
            let bad = |expected: &str| format!("the registry value \"{name}\" must be {expected}.");
            let value = if YES_NO.contains(&key.as_str()) {
                match data {
                    Data::Dword(0) => toml::Value::Boolean(false),
                    Data::Dword(1) => toml::Value::Boolean(true),
                    Data::Sz(s) => match s.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => toml::Value::Boolean(true),
                        "false" | "0" | "no" => toml::Value::Boolean(false),
                        _ => return Err(bad("a DWORD 0 or 1, or the text true or false")),
                    },
                    _ => return Err(bad("a DWORD 0 or 1, or the text true or false")),
                }
            } else if NUMBERS.contains(&key.as_str()) {
                match data {
                    Data::Dword(n) => toml::Value::Integer(i64::from(*n)),
                    Data::Sz(s) => s
                        .trim()
                        .parse::<u32>()
                        .map(|n| toml::Value::Integer(i64::from(n)))
                        .map_err(|_| bad("a number"))?,
                    _ => return Err(bad("a number")),
                }
            } else if LISTS.contains(&key.as_str()) {
                let items: Vec<String> = match data {
                    Data::MultiSz(v) => v.clone(),
                    Data::Sz(s) => s.split([',', ' ']).map(str::to_string).collect(),
                    _ => return Err(bad("a multi-string, or a text with commas")),
                };
                toml::Value::Array(
                    items
                        .into_iter()
                        .map(|i| i.trim().to_string())
                        .filter(|i| !i.is_empty())
                        .map(toml::Value::String)
                        .collect(),
                )
            } else {
                match data {
                    Data::Sz(s) => toml::Value::String(s.clone()),
                    _ => return Err(bad("a string")),
                }
            };
            table.insert(key, value);
        }
        toml::to_string(&table).map_err(|e| e.to_string())
    }

    /// The values under [`KEY`]; none where there is no such key (or no registry).
    #[cfg(windows)]
    pub fn values() -> Result<Vec<(String, Data)>, String> {
        use winreg::enums::{RegType, HKEY_LOCAL_MACHINE};
        let key = match winreg::RegKey::predef(HKEY_LOCAL_MACHINE)
            .open_subkey(r"Software\Policies\Ringside")
        {
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("It cannot be read: {e}.")),
        };
        let mut out = Vec::new();
        for value in key.enum_values() {
            let (name, raw) = value.map_err(|e| format!("It cannot be read: {e}."))?;
            let data = match raw.vtype {
                RegType::REG_SZ | RegType::REG_EXPAND_SZ => {
                    winreg::types::FromRegValue::from_reg_value(&raw).map(Data::Sz)
                }
                RegType::REG_DWORD => {
                    winreg::types::FromRegValue::from_reg_value(&raw).map(Data::Dword)
                }
                RegType::REG_MULTI_SZ => {
                    winreg::types::FromRegValue::from_reg_value(&raw).map(Data::MultiSz)
                }
                _ => Ok(Data::Other),
            }
            .map_err(|e| format!("the registry value \"{name}\" cannot be read: {e}."))?;
            out.push((name, data));
        }
        Ok(out)
    }

    #[cfg(not(windows))]
    pub fn values() -> Result<Vec<(String, Data)>, String> {
        Ok(Vec::new())
    }
}

/// A TOML error in one line: where, and what.
fn toml_problem(text: &str, e: &toml::de::Error) -> String {
    let at = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .map(|l| format!("Line {l}: "))
        .unwrap_or_default();
    format!("{at}{}.", e.message().trim_end_matches('.'))
}

fn read_file(path: &Path, warnings: &mut Vec<String>) -> FileConfig {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).unwrap_or_else(|e| {
            let w = format!("{} ignored: {e}", path.display());
            warn!("{w}");
            warnings.push(w);
            FileConfig::default()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileConfig::default(),
        Err(e) => {
            warnings.push(format!("{} unreadable: {e}", path.display()));
            FileConfig::default()
        }
    }
}

impl Config {
    /// Demo mode with the simulator against `backend_url`, every other setting at its default
    /// (global shortcuts off: a headless core registers none): what headless runs use, the
    /// crash test's child process and the service's tests.
    pub fn headless_demo(backend_url: &str, profile_dir: PathBuf) -> Self {
        Self {
            mode: Mode::Demo,
            backend_url: Some(backend_url.to_string()),
            webphone: WebphoneSource::Simulator,
            username: None,
            profile_dir,
            transfer_route: TransferRoute::Auto,
            registration_timeout_s: 20,
            default_region: None,
            consult_after_call_work: false,
            journal_dtmf_digits: false,
            allow_insecure_transport: false,
            extra_ca_file: None,
            extra_ca: Vec::new(),
            webphone_connect: Vec::new(),
            link_action: LinkAction::Confirm,
            raise_on_ring: false,
            close_to_tray: true,
            global_shortcuts: false,
            shortcuts: Vec::new(),
            start_at_login: None,
            ringtone: Ringtone::Auto,
            update_url: None,
            update_mode: UpdateMode::Off,
            update_public_key: None,
            allow_downgrade: false,
            locked: Vec::new(),
            origins: Vec::new(),
            demo_admin_token: None,
            warnings: Vec::new(),
        }
    }

    /// Loads from the standard places and the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self::resolve(&policy_path(), user_config_path().as_deref(), &env)
    }

    /// The layering itself, with the environment passed in so tests need not mutate it.
    pub fn resolve(
        system: &Path,
        user: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut warnings = Vec::new();
        let mut bad_flag: Option<ConfigError> = None;
        let sys = read_policy(system)?;
        let usr = user
            .map(|p| read_file(p, &mut warnings))
            .unwrap_or_default();
        let locked = sys.locked.clone();
        let is_locked = |k: &str| locked.iter().any(|l| l == k);
        let mut origins: Vec<(&'static str, Origin)> = Vec::new();
        macro_rules! layer {
            ($key:literal, $field:ident, $env:literal, $conv:expr) => {{
                let mut v = sys.$field.clone();
                let mut origin = v.as_ref().map(|_| Origin::Policy);
                if !is_locked($key) {
                    if let Some(u) = usr.$field.clone() {
                        v = Some(u);
                        origin = Some(Origin::UserFile);
                    }
                    if let Some(e) = env($env) {
                        v = Some($conv(e));
                        origin = Some(Origin::Environment);
                    }
                } else if env($env).is_some() || usr.$field.is_some() {
                    warnings.push(format!("`{}` is locked by your IT department", $key));
                }
                if let Some(o) = origin {
                    origins.push(($key, o));
                }
                v
            }};
        }
        let mode = layer!("mode", mode, "RINGSIDE_MODE", |e| e)
            .map(|m| Mode::parse(&m))
            .transpose()?
            .unwrap_or_default();
        let backend_url = layer!("backend_url", backend_url, "RINGSIDE_BACKEND_URL", |e| e);
        let webphone = layer!("webphone", webphone, "RINGSIDE_WEBPHONE", |e| e);
        let username = layer!("username", username, "RINGSIDE_USERNAME", |e| e);
        let profile_dir = layer!(
            "profile_dir",
            profile_dir,
            "RINGSIDE_PROFILE_DIR",
            PathBuf::from
        )
        .or_else(default_profile_dir)
        .ok_or(ConfigError::NoProfileDir)?;
        let route = layer!(
            "transfer_route",
            transfer_route,
            "RINGSIDE_TRANSFER_ROUTE",
            |e| e
        );
        let transfer_route = match route.as_deref().map(TransferRoute::parse) {
            None => TransferRoute::Auto,
            Some(Some(r)) => r,
            Some(None) => {
                return Err(ConfigError::BadValue {
                    key: "transfer_route",
                    value: route.unwrap_or_default(),
                    expected: "auto, pbx or webphone",
                })
            }
        };
        let registration_timeout_s = layer!(
            "registration_timeout_s",
            registration_timeout_s,
            "RINGSIDE_REGISTRATION_TIMEOUT_S",
            |e: String| e.trim().parse().unwrap_or(0)
        )
        .filter(|s| *s > 0)
        .unwrap_or(20);
        let default_region = layer!(
            "default_region",
            default_region,
            "RINGSIDE_DEFAULT_REGION",
            |e| e
        )
        .map(|r| {
            ringside_core::number::parse_region(&r)
                .map(|_| r.trim().to_ascii_uppercase())
                .map_err(|_| ConfigError::BadValue {
                    key: "default_region",
                    value: r,
                    expected: "a two-letter country code such as FR or GB",
                })
        })
        .transpose()?;
        // Yes/no keys: off unless set, and a value that is neither is an error.
        macro_rules! flag_layer {
            ($key:literal, $field:ident, $env:literal) => {
                layer!($key, $field, $env, |e: String| flag(
                    $key,
                    &e,
                    &mut bad_flag
                ))
                .unwrap_or(false)
            };
        }
        let consult_after_call_work = flag_layer!(
            "consult_after_call_work",
            consult_after_call_work,
            "RINGSIDE_CONSULT_AFTER_CALL_WORK"
        );
        let journal_dtmf_digits = flag_layer!(
            "journal_dtmf_digits",
            journal_dtmf_digits,
            "RINGSIDE_JOURNAL_DTMF_DIGITS"
        );
        let allow_insecure_transport = flag_layer!(
            "allow_insecure_transport",
            allow_insecure_transport,
            "RINGSIDE_ALLOW_INSECURE_TRANSPORT"
        );
        let extra_ca_file = layer!(
            "extra_ca_file",
            extra_ca_file,
            "RINGSIDE_EXTRA_CA_FILE",
            PathBuf::from
        );
        let extra_ca = match &extra_ca_file {
            Some(path) => ringside_sync::tls::read_ca_file(path)
                .map_err(|e| ConfigError::ExtraCa(e.to_string()))?,
            None => Vec::new(),
        };
        let webphone_connect = layer!(
            "webphone_connect",
            webphone_connect,
            "RINGSIDE_WEBPHONE_CONNECT",
            |e: String| e
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        )
        .unwrap_or_default()
        .iter()
        .map(|o| {
            connect_origin(o, allow_insecure_transport).ok_or_else(|| ConfigError::BadValue {
                key: "webphone_connect",
                value: o.clone(),
                expected: "a list of wss://host[:port] origins (no path, no wildcard)",
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
        let ringtone = choice(
            "ringtone",
            layer!("ringtone", ringtone, "RINGSIDE_RINGTONE", |e| e),
            &[
                ("auto", Ringtone::Auto),
                ("on", Ringtone::On),
                ("off", Ringtone::Off),
            ],
            "auto, on or off",
        )?;
        let close_to_tray = layer!(
            "close_to_tray",
            close_to_tray,
            "RINGSIDE_CLOSE_TO_TRAY",
            |e: String| flag("close_to_tray", &e, &mut bad_flag)
        )
        .unwrap_or(true);
        let global_shortcuts = layer!(
            "global_shortcuts",
            global_shortcuts,
            "RINGSIDE_GLOBAL_SHORTCUTS",
            |e: String| flag("global_shortcuts", &e, &mut bad_flag)
        )
        .unwrap_or(true);
        let shortcuts = vec![
            (
                "answer".to_string(),
                layer!(
                    "shortcut_answer",
                    shortcut_answer,
                    "RINGSIDE_SHORTCUT_ANSWER",
                    |e| e
                )
                .unwrap_or_else(|| "Ctrl+Alt+A".into()),
            ),
            (
                "hang_up".to_string(),
                layer!(
                    "shortcut_hang_up",
                    shortcut_hang_up,
                    "RINGSIDE_SHORTCUT_HANG_UP",
                    |e| e
                )
                .unwrap_or_else(|| "Ctrl+Alt+H".into()),
            ),
            (
                "mute".to_string(),
                layer!(
                    "shortcut_mute",
                    shortcut_mute,
                    "RINGSIDE_SHORTCUT_MUTE",
                    |e| e
                )
                .unwrap_or_else(|| "Ctrl+Alt+M".into()),
            ),
            (
                "hold".to_string(),
                layer!(
                    "shortcut_hold",
                    shortcut_hold,
                    "RINGSIDE_SHORTCUT_HOLD",
                    |e| e
                )
                .unwrap_or_else(|| "Ctrl+Alt+O".into()),
            ),
        ];
        let start_at_login = layer!(
            "start_at_login",
            start_at_login,
            "RINGSIDE_START_AT_LOGIN",
            |e: String| flag("start_at_login", &e, &mut bad_flag)
        );
        let raise_on_ring = flag_layer!("raise_on_ring", raise_on_ring, "RINGSIDE_RAISE_ON_RING");
        if let Some(e) = bad_flag {
            return Err(e);
        }
        let link_action = choice(
            "link_action",
            layer!("link_action", link_action, "RINGSIDE_LINK_ACTION", |e| e),
            &[("confirm", LinkAction::Confirm), ("dial", LinkAction::Dial)],
            "confirm or dial",
        )?;
        let update_mode = choice(
            "update_mode",
            layer!("update_mode", update_mode, "RINGSIDE_UPDATE_MODE", |e| e),
            &[
                ("auto", UpdateMode::Auto),
                ("notify", UpdateMode::Notify),
                ("off", UpdateMode::Off),
            ],
            "auto, notify or off",
        )?;
        for key in POLICY_ONLY {
            let env_name = format!("RINGSIDE_{}", key.to_ascii_uppercase());
            let in_user_file = match *key {
                "update_url" => usr.update_url.is_some(),
                "update_public_key" => usr.update_public_key.is_some(),
                _ => usr.allow_downgrade.is_some(),
            };
            if in_user_file || env(&env_name).is_some() {
                warnings.push(format!(
                    "`{key}` is read from your IT department's policy only"
                ));
            }
        }
        let mut from_policy = |key: &'static str, set: bool| {
            if set {
                origins.push((key, Origin::Policy));
            }
        };
        from_policy("update_url", sys.update_url.is_some());
        from_policy("update_public_key", sys.update_public_key.is_some());
        from_policy("allow_downgrade", sys.allow_downgrade.is_some());
        let update_url = sys
            .update_url
            .clone()
            .or_else(|| BUILT_IN_UPDATE_URL.map(str::to_string))
            .filter(|u| !u.trim().is_empty());
        if let Some(u) = &update_url {
            check_update_url(u, allow_insecure_transport).map_err(|_| ConfigError::BadValue {
                key: "update_url",
                value: u.clone(),
                expected: "an https:// address (http:// on this computer only)",
            })?;
        }
        let update_public_key = sys
            .update_public_key
            .clone()
            .or_else(|| BUILT_IN_UPDATE_PUBLIC_KEY.map(str::to_string))
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        if let Some(k) = &update_public_key {
            if !is_update_key(k) {
                return Err(ConfigError::BadValue {
                    key: "update_public_key",
                    value: k.clone(),
                    expected:
                        "a minisign public key as `cargo tauri signer generate` writes it (base64)",
                });
            }
        }
        let allow_downgrade = sys.allow_downgrade.unwrap_or(false);
        if mode == Mode::Live && backend_url.is_none() {
            return Err(ConfigError::NoBackend);
        }
        let webphone = webphone
            .map(|w| WebphoneSource::parse(&w))
            .unwrap_or(WebphoneSource::Simulator);
        if let WebphoneSource::Url(url) = &webphone {
            WebphoneSource::check_url(url, allow_insecure_transport).map_err(|_| {
                ConfigError::BadValue {
                key: "webphone",
                value: url.clone(),
                expected:
                    "a folder, or an https:// address without quotes, spaces, ;, * or a password",
            }
            })?;
        }
        Ok(Self {
            mode,
            backend_url,
            webphone,
            username,
            profile_dir,
            transfer_route,
            registration_timeout_s,
            default_region,
            consult_after_call_work,
            journal_dtmf_digits,
            allow_insecure_transport,
            extra_ca_file,
            extra_ca,
            webphone_connect,
            link_action,
            raise_on_ring,
            close_to_tray,
            ringtone,
            global_shortcuts,
            shortcuts,
            start_at_login,
            update_url,
            update_mode,
            update_public_key,
            allow_downgrade,
            locked,
            origins,
            demo_admin_token: (mode == Mode::Demo)
                .then(|| env("RINGSIDE_DEMO_ADMIN_TOKEN"))
                .flatten()
                .map(ringside_core::Secret),
            warnings,
        })
    }

    pub fn is_locked(&self, key: &str) -> bool {
        self.locked.iter().any(|k| k == key)
    }

    /// A profile named on the command line (`--profile DIR`, `--temp-profile`): refused when
    /// IT locked `profile_dir`.
    pub fn profile_from_command_line(
        &mut self,
        dir: PathBuf,
        flag: &'static str,
    ) -> Result<(), ConfigError> {
        if self.is_locked("profile_dir") {
            return Err(ConfigError::Locked {
                key: "profile_dir",
                source_name: flag,
            });
        }
        self.profile_dir = dir;
        self.origins.retain(|(k, _)| *k != "profile_dir");
        self.origins.push(("profile_dir", Origin::CommandLine));
        Ok(())
    }

    pub fn origin(&self, key: &str) -> Origin {
        self.origins
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map_or(Origin::Default, |(_, o)| *o)
    }

    /// The effective value of `key` (one of [`KEYS`]), as a policy file would spell it.
    pub fn value_of(&self, key: &str) -> String {
        let yes_no = |b: bool| b.to_string();
        let shortcut = |action: &str| {
            self.shortcuts
                .iter()
                .find(|(a, _)| a == action)
                .map(|(_, k)| k.clone())
                .unwrap_or_default()
        };
        match key {
            "mode" => match self.mode {
                Mode::Demo => "demo".into(),
                Mode::Live => "live".into(),
            },
            "backend_url" => self
                .backend_url
                .clone()
                .unwrap_or_else(|| "(in-process demo backend)".into()),
            "webphone" => match &self.webphone {
                WebphoneSource::Simulator => "simulator".into(),
                WebphoneSource::Folder(p) => p.display().to_string(),
                WebphoneSource::Url(u) => u.clone(),
            },
            "username" => self.username.clone().unwrap_or_default(),
            "profile_dir" => self.profile_dir.display().to_string(),
            "transfer_route" => match self.transfer_route {
                TransferRoute::Auto => "auto".into(),
                TransferRoute::Pbx => "pbx".into(),
                TransferRoute::Webphone => "webphone".into(),
            },
            "registration_timeout_s" => self.registration_timeout_s.to_string(),
            "default_region" => self.default_region.clone().unwrap_or_default(),
            "consult_after_call_work" => yes_no(self.consult_after_call_work),
            "journal_dtmf_digits" => yes_no(self.journal_dtmf_digits),
            "allow_insecure_transport" => yes_no(self.allow_insecure_transport),
            "webphone_connect" => {
                if self.webphone_connect.is_empty() {
                    "(any secure WebSocket server)".into()
                } else {
                    self.webphone_connect.join(" ")
                }
            }
            "extra_ca_file" => self
                .extra_ca_file
                .as_ref()
                .map(|p| format!("{} ({} certificates)", p.display(), self.extra_ca.len()))
                .unwrap_or_default(),
            "link_action" => match self.link_action {
                LinkAction::Confirm => "confirm".into(),
                LinkAction::Dial => "dial".into(),
            },
            "raise_on_ring" => yes_no(self.raise_on_ring),
            "close_to_tray" => yes_no(self.close_to_tray),
            "ringtone" => match self.ringtone {
                Ringtone::Auto => "auto".into(),
                Ringtone::On => "on".into(),
                Ringtone::Off => "off".into(),
            },
            "global_shortcuts" => yes_no(self.global_shortcuts),
            "start_at_login" => self
                .start_at_login
                .map_or_else(|| "(the agent's choice)".into(), yes_no),
            "shortcut_answer" => shortcut("answer"),
            "shortcut_hang_up" => shortcut("hang_up"),
            "shortcut_mute" => shortcut("mute"),
            "shortcut_hold" => shortcut("hold"),
            "update_url" => self
                .update_url
                .clone()
                .unwrap_or_else(|| "(none: updates come from IT)".into()),
            "update_mode" => self.update_mode.as_str().into(),
            "update_public_key" => match (&self.update_public_key, self.origin(key)) {
                (None, _) => "(none: no update can be verified)".into(),
                (Some(_), Origin::Default) => "(built in)".into(),
                (Some(k), _) => k.clone(),
            },
            "allow_downgrade" => yes_no(self.allow_downgrade),
            _ => String::new(),
        }
    }

    /// What `ringside policy` prints: every setting, its value, where it came from and
    /// whether IT locked it, then the warnings.
    pub fn report(&self, policy: &Path, user: Option<&Path>) -> String {
        let present = |p: &Path| if p.exists() { "" } else { " (not present)" };
        let mut out = if registry::values().is_ok_and(|v| !v.is_empty()) {
            format!("IT policy:      {} (registry values)\n", registry::KEY)
        } else {
            format!("IT policy file: {}{}\n", policy.display(), present(policy))
        };
        match user {
            Some(u) => out.push_str(&format!("user file:      {}{}\n", u.display(), present(u))),
            None => out.push_str("user file:      (none on this system)\n"),
        }
        let width = KEYS.iter().map(|k| k.len()).max().unwrap_or(0);
        out.push('\n');
        for key in KEYS {
            let lock = if self.is_locked(key) { ", locked" } else { "" };
            let value = Some(self.value_of(key))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "(not set)".into());
            out.push_str(&format!(
                "{key:<width$}  {value}  [{}{lock}]\n",
                self.origin(key).as_str()
            ));
        }
        for w in &self.warnings {
            out.push_str(&format!("\nwarning: {w}"));
        }
        if !self.warnings.is_empty() {
            out.push('\n');
        }
        out
    }
}

/// `value` as a connect-src origin (`wss://host[:port]`, `https://` too; `ws://` and
/// `http://` only where a lab's policy allows them), or `None`: a path, a wildcard, a user
/// name or anything a policy directive could be bent with is refused.
pub fn connect_origin(value: &str, allow_insecure: bool) -> Option<String> {
    let v = value.trim();
    if policy_breaking(v).is_some() {
        return None;
    }
    let url = url::Url::parse(v).ok()?;
    let secure = matches!(url.scheme(), "wss" | "https");
    let plain = matches!(url.scheme(), "ws" | "http");
    if !(secure || plain && allow_insecure) {
        return None;
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return None;
    }
    url.host_str().filter(|h| !h.is_empty())?;
    Some(url.origin().ascii_serialization())
}

/// An update channel's address: https, or http to this computer (a lab's policy may allow
/// more). `{{target}}`, `{{arch}}`, `{{current_version}}` and `{{bundle_type}}` are the
/// updater's to fill in.
fn check_update_url(value: &str, allow_insecure: bool) -> Result<(), ()> {
    let url = url::Url::parse(value.trim()).map_err(|_| ())?;
    let plain = ringside_sync::client::leaves_unencrypted(&url);
    let ok = match url.scheme() {
        "https" => true,
        "http" => !plain || allow_insecure,
        _ => false,
    };
    if ok && url.host_str().is_some_and(|h| !h.is_empty()) && url.password().is_none() {
        Ok(())
    } else {
        Err(())
    }
}

/// Whether `key` reads as Tauri's form of a minisign public key: base64 of the key file,
/// whose second line is base64 of the 42-byte key (`Ed`, key id, Ed25519 key).
fn is_update_key(key: &str) -> bool {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let Some(text) = b64
        .decode(key.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return false;
    };
    text.lines()
        .nth(1)
        .and_then(|l| b64.decode(l.trim()).ok())
        .is_some_and(|k| k.len() == 42 && k.starts_with(b"Ed"))
}

/// The first character of `value` that could end a policy source or an HTML attribute
/// (quotes, spaces, `;`, `*`, `<`, `>`, backslash...), if any: what the webphone's address
/// and IT's server list are both written into.
fn policy_breaking(value: &str) -> Option<char> {
    value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"';*<>\\`,".contains(*c))
}

/// Whether the frame's policy lets it reach `url` (a `wss://` address the backend handed out).
pub fn connect_allowed(allowed: &[String], url: &str) -> bool {
    if allowed.is_empty() {
        return true;
    }
    url::Url::parse(url).is_ok_and(|u| allowed.contains(&u.origin().ascii_serialization()))
}

/// One of a setting's named values (`T::default()` when it is not set); anything else is an
/// error naming the setting and what it may be.
fn choice<T: Copy + Default>(
    key: &'static str,
    value: Option<String>,
    options: &[(&str, T)],
    expected: &'static str,
) -> Result<T, ConfigError> {
    let Some(value) = value else {
        return Ok(T::default());
    };
    options
        .iter()
        .find(|(name, _)| *name == value.trim())
        .map(|(_, v)| *v)
        .ok_or(ConfigError::BadValue {
            key,
            value,
            expected,
        })
}

/// A yes/no setting from the environment; a value that is neither is an error, recorded in
/// `bad` (the first one wins), never a silent default.
fn flag(key: &'static str, value: &str, bad: &mut Option<ConfigError>) -> bool {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => true,
        "false" | "0" | "no" => false,
        _ => {
            bad.get_or_insert(ConfigError::BadValue {
                key,
                value: value.to_string(),
                expected: "true or false",
            });
            false
        }
    }
}

/// Sets one key in the user's config file, keeping everything else in it; refused for a key
/// IT locked (Settings greys it out, and this holds whatever asks).
pub fn save_user_value(locked: &[String], key: &str, value: &str) -> Result<(), String> {
    if locked.iter().any(|k| k == key) {
        return Err(format!("`{key}` is locked by your IT department"));
    }
    let path = user_config_path().ok_or("no config directory on this system")?;
    let mut table: toml::Table = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .parse()
            .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if value.is_empty() {
        table.remove(key);
    } else {
        table.insert(key.to_string(), toml::Value::String(value.to_string()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = toml::to_string(&table).map_err(|e| e.to_string())?;
    // Write aside, then rename: a crash never leaves half a config file.
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    // The agent's own settings: nobody else's to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_locks() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("sys.toml");
        let usr = dir.path().join("usr.toml");
        std::fs::write(
            &sys,
            "mode = \"live\"\nbackend_url = \"https://crm.example\"\nlocked = [\"backend_url\"]\n",
        )
        .unwrap();
        std::fs::write(
            &usr,
            "backend_url = \"https://evil.example\"\nwebphone = \"/opt/wp/webphone_api.js\"\n",
        )
        .unwrap();
        let env = |k: &str| (k == "RINGSIDE_PROFILE_DIR").then(|| "/tmp/p".to_string());
        let c = Config::resolve(&sys, Some(&usr), &env).unwrap();
        assert_eq!(c.mode, Mode::Live);
        assert_eq!(c.backend_url.as_deref(), Some("https://crm.example"));
        assert_eq!(c.webphone, WebphoneSource::Folder("/opt/wp".into()));
        assert_eq!(c.profile_dir, PathBuf::from("/tmp/p"));
        assert!(c.warnings.iter().any(|w| w.contains("locked")));
    }

    /// A minisign public key in Tauri's form (made with `cargo tauri signer generate`).
    const UPDATE_KEY: &str = "dW50cnVzdGVkIGNvbW1lbnQ6IG1pbmlzaWduIHB1YmxpYyBrZXk6IEE5NTMxRkQ4QUE4RTRCNzAKUldSd1M0NnEyQjlUcVFPc3RRSDR0TkhUS2duMjdYWlArN09vdThzdW9WcFZXZmdYditiQjduRzcK";

    /// Where updates come from and what key they are checked against decide what code runs
    /// on the computer: IT's policy only, never the agent's file or environment.
    #[test]
    fn the_update_channel_and_key_come_from_it_s_policy_only() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("sys.toml");
        let usr = dir.path().join("usr.toml");
        std::fs::write(
            &sys,
            format!("update_url = \"https://updates.example/latest.json\"\nupdate_public_key = \"{UPDATE_KEY}\"\n"),
        )
        .unwrap();
        std::fs::write(
            &usr,
            "update_url = \"https://evil.example/latest.json\"\nallow_downgrade = true\nupdate_mode = \"notify\"\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "RINGSIDE_PROFILE_DIR" => Some("/tmp/p".to_string()),
            "RINGSIDE_UPDATE_PUBLIC_KEY" => Some("evil".to_string()),
            _ => None,
        };
        let c = Config::resolve(&sys, Some(&usr), &env).unwrap();
        assert_eq!(
            c.update_url.as_deref(),
            Some("https://updates.example/latest.json")
        );
        assert_eq!(c.update_public_key.as_deref(), Some(UPDATE_KEY));
        assert!(!c.allow_downgrade);
        // How updates are applied is the agent's to choose, unless IT locks it.
        assert_eq!(c.update_mode, UpdateMode::Notify);
        for key in ["update_url", "update_public_key", "allow_downgrade"] {
            assert!(
                c.warnings
                    .iter()
                    .any(|w| w.contains(key) && w.contains("policy only")),
                "{key}: {:?}",
                c.warnings
            );
        }
        assert_eq!(c.origin("update_url"), Origin::Policy);
        let report = c.report(&sys, Some(&usr));
        assert!(report.contains("update_url"), "{report}");

        std::fs::write(&sys, "update_mode = \"off\"\nlocked = [\"update_mode\"]\n").unwrap();
        let c = Config::resolve(&sys, Some(&usr), &env).unwrap();
        assert_eq!(c.update_mode, UpdateMode::Off);

        for (bad, key) in [
            (
                "update_url = \"http://updates.example/latest.json\"",
                "update_url",
            ),
            (
                "update_url = \"ftp://updates.example/latest.json\"",
                "update_url",
            ),
            ("update_public_key = \"not a key\"", "update_public_key"),
            ("update_mode = \"sometimes\"", "update_mode"),
        ] {
            std::fs::write(&sys, format!("{bad}\n")).unwrap();
            let e = Config::resolve(&sys, None, &env).unwrap_err();
            assert!(e.to_string().contains(key), "{bad}: {e}");
        }
        // Plain http is for an update server on this computer (a test's, a lab's).
        std::fs::write(&sys, "update_url = \"http://127.0.0.1:8080/latest.json\"\n").unwrap();
        assert!(Config::resolve(&sys, None, &env).is_ok());
    }

    /// Windows: the MSI's properties and Group Policy write registry values, read as the
    /// policy file would be, as strictly.
    #[test]
    fn registry_values_read_as_the_policy_file() {
        use registry::{policy_text, Data};
        let text = policy_text(&[
            (
                "backend_url".into(),
                Data::Sz("https://crm.example.com".into()),
            ),
            ("Raise_On_Ring".into(), Data::Dword(1)),
            ("close_to_tray".into(), Data::Sz("false".into())),
            ("registration_timeout_s".into(), Data::Dword(30)),
            (
                "locked".into(),
                Data::Sz("backend_url, raise_on_ring".into()),
            ),
            (
                "webphone_connect".into(),
                Data::MultiSz(vec!["wss://pbx.example.com:8089".into()]),
            ),
        ])
        .unwrap();
        let file = parse_policy(&text, Path::new(registry::KEY)).unwrap();
        assert_eq!(file.backend_url.as_deref(), Some("https://crm.example.com"));
        assert_eq!(file.raise_on_ring, Some(true));
        assert_eq!(file.close_to_tray, Some(false));
        assert_eq!(file.registration_timeout_s, Some(30));
        assert_eq!(file.locked, vec!["backend_url", "raise_on_ring"]);
        assert_eq!(
            file.webphone_connect,
            Some(vec!["wss://pbx.example.com:8089".to_string()])
        );
        for bad in [
            ("raise_on_ring", Data::Dword(2)),
            ("raise_on_ring", Data::Sz("maybe".into())),
            ("registration_timeout_s", Data::Sz("soon".into())),
            ("backend_url", Data::Dword(1)),
            ("backend_url", Data::Other),
        ] {
            let name = bad.0.to_string();
            let e = policy_text(&[(name.clone(), bad.1)]).unwrap_err();
            assert!(e.contains(&name), "{e}");
        }
        // An unknown value is an error, as an unknown key in the file is.
        let text = policy_text(&[("backend_ur".into(), Data::Sz("x".into()))]).unwrap();
        let e = parse_policy(&text, Path::new(registry::KEY)).unwrap_err();
        assert!(e.to_string().contains("backend_ur"), "{e}");
        assert!(e.to_string().contains("Policies"), "{e}");
    }

    #[test]
    fn a_broken_file_is_a_warning_not_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let usr = dir.path().join("usr.toml");
        std::fs::write(&usr, "mode = [[[").unwrap();
        let env = |k: &str| (k == "RINGSIDE_PROFILE_DIR").then(|| "/tmp/p".to_string());
        let c = Config::resolve(&dir.path().join("none"), Some(&usr), &env).unwrap();
        assert_eq!(c.mode, Mode::Demo);
        assert_eq!(c.warnings.len(), 1);
    }

    /// IT's file is read strictly: whatever is wrong with it stops Ringside, naming the file
    /// and the line, and never runs with the locks gone.
    #[test]
    fn a_policy_that_cannot_be_used_stops_ringside_with_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("policy.toml");
        let env = |k: &str| (k == "RINGSIDE_PROFILE_DIR").then(|| "/tmp/p".to_string());
        let cases = [
            ("mode = \"live\"\nbackend_url = [[[\n", "Line 2"),
            (
                "mode = \"live\"\nbackend_ur = \"https://crm.example\"\n",
                "Line 2",
            ),
            (
                "backend_url = \"https://crm.example\"\nlocked = [\"backend_ur\"]\n",
                "Line 2: `locked` names \"backend_ur\", which is not a setting",
            ),
        ];
        for (text, said) in cases {
            std::fs::write(&sys, text).unwrap();
            let e = Config::resolve(&sys, None, &env).unwrap_err();
            assert_eq!(e.code(), "policy", "{text}");
            let msg = e.to_string();
            assert!(msg.contains(&sys.display().to_string()), "{msg}");
            assert!(msg.contains(said), "{text}: {msg}");
        }
        let misspelt = {
            std::fs::write(&sys, "backend_ur = \"x\"\n").unwrap();
            Config::resolve(&sys, None, &env).unwrap_err().to_string()
        };
        assert!(misspelt.contains("backend_ur"), "{misspelt}");
        // Unreadable (here a directory where the file should be) is not "absent".
        let e = Config::resolve(dir.path(), None, &env).unwrap_err();
        assert_eq!(e.code(), "policy");
        // Absent is no policy at all.
        assert!(Config::resolve(&dir.path().join("none"), None, &env).is_ok());
    }

    #[test]
    fn every_setting_can_be_written_in_the_policy_and_locked() {
        let dir = tempfile::tempdir().unwrap();
        let ca = format!(
            "{:?}",
            concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/extra-ca.pem")
        );
        let sys = dir.path().join("policy.toml");
        let update_key = format!("\"{UPDATE_KEY}\"");
        let mut text = String::new();
        for key in KEYS {
            let value = match *key {
                "update_url" => "\"https://updates.example/latest.json\"",
                "update_mode" => "\"notify\"",
                "update_public_key" => update_key.as_str(),
                "mode" => "\"live\"",
                "backend_url" => "\"https://crm.example\"",
                "webphone" | "profile_dir" => "\"/opt/wp\"",
                "extra_ca_file" => ca.as_str(),
                "webphone_connect" => "[\"wss://pbx.example.com:8089\"]",
                "transfer_route" | "ringtone" => "\"auto\"",
                "link_action" => "\"confirm\"",
                "default_region" => "\"FR\"",
                "registration_timeout_s" => "30",
                k if k.starts_with("shortcut_") => "\"Ctrl+Alt+F9\"",
                "username" => "\"agent\"",
                _ => "true",
            };
            text.push_str(&format!("{key} = {value}\n"));
        }
        let all: Vec<String> = KEYS.iter().map(|k| format!("\"{k}\"")).collect();
        text.push_str(&format!("locked = [{}]\n", all.join(", ")));
        std::fs::write(&sys, text).unwrap();
        let c = Config::resolve(&sys, None, &|_: &str| None).unwrap();
        for key in KEYS {
            assert!(c.is_locked(key));
            assert_eq!(c.origin(key), Origin::Policy, "{key}");
            assert!(!c.value_of(key).is_empty(), "{key}");
        }
        assert_eq!(c.value_of("shortcut_mute"), "Ctrl+Alt+F9");
        assert_eq!(c.value_of("registration_timeout_s"), "30");
        assert_eq!(c.extra_ca.len(), 1);
    }

    #[test]
    fn the_webphone_connect_list_takes_origins_only() {
        assert_eq!(
            connect_origin("wss://PBX.example.com:8089/", false).as_deref(),
            Some("wss://pbx.example.com:8089")
        );
        assert_eq!(
            connect_origin("https://cdn.example.com", false).as_deref(),
            Some("https://cdn.example.com")
        );
        for bad in [
            "wss://pbx.example.com/ws",
            "wss://*.example.com",
            "wss://pbx.example.com; script-src *",
            "wss://user:pw@pbx.example.com",
            "ws://pbx.example.com",
            "pbx.example.com",
            "wss://pbx.example.com?x=1",
        ] {
            assert_eq!(connect_origin(bad, false), None, "{bad}");
        }
        assert!(connect_origin("ws://lab-pbx:8088", true).is_some());
        let allowed = vec!["wss://pbx.example.com:8089".to_string()];
        assert!(connect_allowed(&allowed, "wss://pbx.example.com:8089/ws"));
        assert!(!connect_allowed(&allowed, "wss://pbx.example.com/ws"));
        assert!(!connect_allowed(&allowed, "wss://evil.example:8089/ws"));
        assert!(connect_allowed(&[], "wss://anything.example/ws"));
        let env = |k: &str| match k {
            "RINGSIDE_PROFILE_DIR" => Some("/tmp/p".to_string()),
            "RINGSIDE_WEBPHONE_CONNECT" => Some("wss://a.example:1, wss://b.example".to_string()),
            _ => None,
        };
        let c = Config::resolve(Path::new("/nonexistent"), None, &env).unwrap();
        assert_eq!(c.webphone_connect, ["wss://a.example:1", "wss://b.example"]);
        let env = |k: &str| match k {
            "RINGSIDE_PROFILE_DIR" => Some("/tmp/p".to_string()),
            "RINGSIDE_WEBPHONE_CONNECT" => Some("wss://a.example/;x".to_string()),
            _ => None,
        };
        assert!(Config::resolve(Path::new("/nonexistent"), None, &env).is_err());
    }

    /// An extra CA file that is not there, or holds no certificate, stops Ringside: running
    /// without the CA IT meant would fail every connection later, less plainly.
    #[test]
    fn an_unusable_extra_ca_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(
            &junk,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for path in [dir.path().join("missing.pem"), junk] {
            let p = path.display().to_string();
            let env = |k: &str| match k {
                "RINGSIDE_PROFILE_DIR" => Some("/tmp/p".to_string()),
                "RINGSIDE_EXTRA_CA_FILE" => Some(p.clone()),
                _ => None,
            };
            let e = Config::resolve(Path::new("/nonexistent"), None, &env).unwrap_err();
            assert!(e.to_string().contains(&p), "{e}");
        }
    }

    /// Every escape a user had: the environment, the user's file, the command line and
    /// Settings all meet the lock.
    #[test]
    fn a_lock_holds_against_every_other_source() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("policy.toml");
        let usr = dir.path().join("user.toml");
        std::fs::write(
            &sys,
            "profile_dir = \"/srv/ringside\"\nwebphone = \"/opt/wp\"\nlocked = [\"profile_dir\", \"webphone\"]\n",
        )
        .unwrap();
        std::fs::write(&usr, "webphone = \"/home/me/wp\"\n").unwrap();
        let env = |k: &str| (k == "RINGSIDE_PROFILE_DIR").then(|| "/tmp/mine".to_string());
        let mut c = Config::resolve(&sys, Some(&usr), &env).unwrap();
        assert_eq!(c.profile_dir, PathBuf::from("/srv/ringside"));
        assert_eq!(c.webphone, WebphoneSource::Folder("/opt/wp".into()));
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        let e = c
            .profile_from_command_line("/tmp/other".into(), "--profile")
            .unwrap_err();
        assert_eq!(e.code(), "locked");
        assert!(e.to_string().contains("--profile"), "{e}");
        assert_eq!(c.profile_dir, PathBuf::from("/srv/ringside"));
        let saved = save_user_value(&c.locked, "webphone", "/tmp/x");
        assert!(saved.unwrap_err().contains("locked"));
        let report = c.report(&sys, Some(&usr));
        assert!(
            report.contains("profile_dir") && report.contains("/srv/ringside  [IT policy, locked]"),
            "{report}"
        );
        assert!(report.contains("warning: `webphone` is locked"), "{report}");
    }

    #[test]
    fn the_report_says_where_each_value_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("policy.toml");
        let usr = dir.path().join("user.toml");
        std::fs::write(
            &sys,
            "mode = \"live\"\nbackend_url = \"https://crm.example\"\n",
        )
        .unwrap();
        std::fs::write(&usr, "ringtone = \"off\"\n").unwrap();
        let env = |k: &str| match k {
            "RINGSIDE_PROFILE_DIR" => Some("/tmp/p".to_string()),
            "RINGSIDE_LINK_ACTION" => Some("dial".to_string()),
            _ => None,
        };
        let mut c = Config::resolve(&sys, Some(&usr), &env).unwrap();
        assert_eq!(c.origin("mode"), Origin::Policy);
        assert_eq!(c.origin("ringtone"), Origin::UserFile);
        assert_eq!(c.origin("link_action"), Origin::Environment);
        assert_eq!(c.origin("raise_on_ring"), Origin::Default);
        c.profile_from_command_line("/tmp/q".into(), "--profile")
            .unwrap();
        assert_eq!(c.origin("profile_dir"), Origin::CommandLine);
        let report = c.report(&sys, None);
        for line in [
            "mode                      live  [IT policy]",
            "ringtone                  off  [user file]",
            "link_action               dial  [environment]",
            "profile_dir               /tmp/q  [command line]",
            "raise_on_ring             false  [default]",
        ] {
            assert!(report.contains(line), "{line}\n{report}");
        }
    }

    /// Only a debug build may read another policy file than the fixed one.
    #[test]
    fn the_policy_file_is_at_a_fixed_place_in_a_release() {
        let env = |k: &str| (k == "RINGSIDE_SYSTEM_CONFIG").then(|| "/dev/null".into());
        let expected = if cfg!(debug_assertions) {
            PathBuf::from("/dev/null")
        } else {
            fixed_policy_path()
        };
        assert_eq!(policy_path_from(&env), expected);
        if cfg!(target_os = "linux") {
            assert_eq!(
                fixed_policy_path(),
                PathBuf::from("/etc/ringside/config.toml")
            );
        }
    }

    #[test]
    fn live_mode_needs_a_backend() {
        let env = |k: &str| match k {
            "RINGSIDE_MODE" => Some("live".to_string()),
            "RINGSIDE_PROFILE_DIR" => Some("/tmp/p".to_string()),
            _ => None,
        };
        assert!(matches!(
            Config::resolve(Path::new("/nonexistent"), None, &env),
            Err(ConfigError::NoBackend)
        ));
    }

    /// An environment with `RINGSIDE_PROFILE_DIR` and `extra` set, and nothing else.
    fn env_with(extra: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(&str, &str)> = [("RINGSIDE_PROFILE_DIR", "/tmp/p")]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn resolve_env(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        Config::resolve(Path::new("/nonexistent"), None, &env_with(extra))
    }

    #[test]
    fn mode_is_demo_or_live_in_any_case_and_nothing_else() {
        let mode_is = |value: &'static str| {
            resolve_env(&[
                ("RINGSIDE_MODE", value),
                ("RINGSIDE_BACKEND_URL", "https://crm.example"),
            ])
        };
        for (value, mode) in [
            ("LIVE", Mode::Live),
            ("Demo", Mode::Demo),
            (" live ", Mode::Live),
        ] {
            assert_eq!(mode_is(value).unwrap().mode, mode, "{value}");
        }
        for value in ["prod", "lve", "1"] {
            let e = mode_is(value).unwrap_err();
            assert!(e.to_string().contains("demo or live"), "{value}: {e}");
        }
        // In a file too: `mode = "Live"` is live, `mode = "production"` an error.
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("sys.toml");
        std::fs::write(
            &sys,
            "mode = \"Live\"\nbackend_url = \"https://crm.example\"\n",
        )
        .unwrap();
        let env = env_with(&[]);
        assert_eq!(Config::resolve(&sys, None, &env).unwrap().mode, Mode::Live);
        std::fs::write(&sys, "mode = \"production\"\n").unwrap();
        assert!(Config::resolve(&sys, None, &env).is_err());
    }

    #[test]
    fn flags_are_yes_or_no_and_nothing_else() {
        let dtmf = |v: &'static str| resolve_env(&[("RINGSIDE_JOURNAL_DTMF_DIGITS", v)]);
        assert!(dtmf("TRUE").unwrap().journal_dtmf_digits);
        assert!(!dtmf("0").unwrap().journal_dtmf_digits);
        let e = dtmf("sometimes").unwrap_err();
        assert!(e.to_string().contains("journal_dtmf_digits"), "{e}");
        let c = resolve_env(&[]).unwrap();
        assert!(
            !c.journal_dtmf_digits && !c.consult_after_call_work && !c.allow_insecure_transport,
            "all off by default"
        );
    }

    #[test]
    fn the_default_region_is_checked() {
        let region = |v: &'static str| resolve_env(&[("RINGSIDE_DEFAULT_REGION", v)]);
        assert_eq!(region("fr").unwrap().default_region.as_deref(), Some("FR"));
        let e = region("France").unwrap_err();
        assert!(e.to_string().contains("two-letter"), "{e}");
    }

    #[test]
    fn a_webphone_address_cannot_write_into_the_policy_or_the_page() {
        for ok in [
            "https://cdn.example.com/wp/",
            "http://127.0.0.1:8080/webphone/",
        ] {
            assert_eq!(WebphoneSource::check_url(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "https://cdn.example.com/wp/ 'unsafe-inline'",
            "https://cdn.example.com/wp/;script-src *",
            "https://*.example.com/",
            "https://cdn.example.com/\"><script>",
            "javascript:alert(1)",
            "https://user:pw@cdn.example.com/",
            "/not/an/address",
        ] {
            assert!(
                WebphoneSource::check_url(bad, false).is_err(),
                "{bad} accepted"
            );
        }
        // Unencrypted beyond this computer only by a lab's policy.
        assert!(WebphoneSource::check_url("http://cdn.example.com/wp/", false).is_err());
        assert_eq!(
            WebphoneSource::check_url("http://cdn.example.com/wp/", true),
            Ok(())
        );
        assert!(resolve_env(&[(
            "RINGSIDE_WEBPHONE",
            "https://cdn.example.com/wp/;connect-src *"
        )])
        .is_err());
    }

    #[test]
    fn webphone_sources() {
        assert_eq!(WebphoneSource::parse(""), WebphoneSource::Simulator);
        assert_eq!(
            WebphoneSource::parse("https://cdn.example/wp/webphone_api.js"),
            WebphoneSource::Url("https://cdn.example/wp/".into())
        );
    }
}
