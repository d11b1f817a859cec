//! For tests: a private D-Bus session bus (a real `dbus-daemon`) and a notification server on
//! it that keeps what it was asked to show and can click a notification's buttons, as an agent
//! would. It speaks the freedesktop protocol as GNOME's and dunst's servers do: ids from 1,
//! `NotificationClosed` (reason 3: closed by the application) when closed, and after an action.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

/// A `dbus-daemon` of its own, stopped when dropped.
#[derive(Debug)]
pub struct PrivateBus {
    child: Child,
    pub address: String,
}

impl PrivateBus {
    pub fn start(dir: &Path) -> PrivateBus {
        let socket = dir.join("bus");
        let mut child = Command::new("dbus-daemon")
            .arg("--session")
            .arg("--nofork")
            .arg("--print-address=1")
            .arg(format!("--address=unix:path={}", socket.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian's dbus-daemon package; cargo xtask setup installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        PrivateBus {
            child,
            address: line.trim().to_string(),
        }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One notification as the server received it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: u32,
    pub app_name: String,
    pub replaces_id: u32,
    pub summary: String,
    pub body: String,
    /// Flat, as on the wire: key, label, key, label...
    pub actions: Vec<String>,
    pub urgency: Option<u8>,
    pub category: Option<String>,
    pub closed: bool,
}

#[derive(Default)]
struct State {
    next: u32,
    shown: Vec<Shown>,
}

struct Server {
    state: Arc<Mutex<State>>,
    actions: bool,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut st = self.state.lock().unwrap();
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            st.next += 1;
            st.next
        };
        st.shown.push(Shown {
            id,
            app_name,
            replaces_id,
            summary,
            body,
            actions,
            urgency: hints.get("urgency").and_then(|v| u8::try_from(v).ok()),
            category: hints
                .get("category")
                .and_then(|v| String::try_from(v.clone()).ok()),
            closed: false,
        });
        id
    }

    async fn close_notification(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> zbus::fdo::Result<()> {
        let known = {
            let mut st = self.state.lock().unwrap();
            let mut known = false;
            for s in st.shown.iter_mut().filter(|s| s.id == id) {
                s.closed = true;
                known = true;
            }
            known
        };
        if known {
            Self::notification_closed(&emitter, id, 3).await?;
        }
        Ok(())
    }

    fn get_capabilities(&self) -> Vec<String> {
        let mut caps = vec!["body".to_string(), "persistence".to_string()];
        if self.actions {
            caps.push("actions".to_string());
        }
        caps
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "ringside-test".into(),
            "Ringside".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

const PATH: &str = "/org/freedesktop/Notifications";

/// The notification server, serving on a bus until dropped.
pub struct NotificationServer {
    conn: zbus::Connection,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for NotificationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationServer").finish()
    }
}

impl NotificationServer {
    /// Serves `org.freedesktop.Notifications` on the bus at `address`; `actions` says whether
    /// it shows buttons (some servers do not).
    pub async fn start(address: &str, actions: bool) -> NotificationServer {
        let state: Arc<Mutex<State>> = Arc::default();
        let conn = zbus::connection::Builder::address(address)
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at(
                PATH,
                Server {
                    state: state.clone(),
                    actions,
                },
            )
            .unwrap()
            .build()
            .await
            .unwrap();
        NotificationServer { conn, state }
    }

    /// Everything shown so far, in order (a replacement is a new entry with its old id).
    pub fn shown(&self) -> Vec<Shown> {
        self.state.lock().unwrap().shown.clone()
    }

    /// The agent clicks `action` on notification `id`; as real servers do, the notification
    /// then closes (reason 2: dismissed by the user).
    pub async fn click(&self, id: u32, action: &str) {
        let iface = self
            .conn
            .object_server()
            .interface::<_, Server>(PATH)
            .await
            .unwrap();
        let emitter = iface.signal_emitter();
        Server::action_invoked(emitter, id, action).await.unwrap();
        for s in self
            .state
            .lock()
            .unwrap()
            .shown
            .iter_mut()
            .filter(|s| s.id == id)
        {
            s.closed = true;
        }
        Server::notification_closed(emitter, id, 2).await.unwrap();
    }
}

/// A GNOME Keyring daemon (the Secret Service) on a private bus, with a fresh login keyring,
/// unlocked. Stopped when dropped.
#[derive(Debug)]
pub struct KeyringDaemon {
    child: Child,
    address: String,
}

impl KeyringDaemon {
    pub async fn start(dir: &Path, bus: &PrivateBus) -> KeyringDaemon {
        use std::io::Write;
        let home = dir.join("keyring-home");
        std::fs::create_dir_all(home.join("run")).unwrap();
        let mut child = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_RUNTIME_DIR", home.join("run"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian's gnome-keyring; cargo xtask setup installs it)");
        // The login keyring's password, then end of input.
        let stdin = child.stdin.take();
        let daemon = KeyringDaemon {
            child,
            address: bus.address.clone(),
        };
        let mut stdin = stdin.unwrap();
        stdin.write_all(b"ringside-test").unwrap();
        drop(stdin);
        let conn = zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .build()
            .await
            .unwrap();
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.unwrap();
        let name = zbus::names::BusName::try_from("org.freedesktop.secrets").unwrap();
        for _ in 0..100 {
            if dbus.name_has_owner(name.clone()).await.unwrap_or(false) {
                return daemon;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("gnome-keyring-daemon never took org.freedesktop.secrets");
    }

    /// What the keyring holds for Ringside's entry `account`, read with `secret-tool` as an
    /// administrator would; `None` when there is no such entry.
    pub fn lookup(&self, account: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args([
                "lookup",
                "service",
                crate::keyring::SERVICE,
                "username",
                account,
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("secret-tool (Debian's libsecret-tools; cargo xtask setup installs it)");
        let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !value.is_empty()).then_some(value)
    }
}

impl Drop for KeyringDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One entry of the tray's menu as a tray host reads it over `com.canonical.dbusmenu`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrayEntry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
    /// 1 checked, 0 unchecked, -1 or absent: not a check item.
    pub checked: Option<i32>,
    pub separator: bool,
}

#[derive(Default)]
struct WatcherState {
    /// (bus name, object path) of each item registered.
    items: Vec<(String, String)>,
}

struct Watcher {
    state: Arc<Mutex<WatcherState>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    async fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        // libappindicator gives its object path, others their bus name.
        let (name, path) = if service.starts_with('/') {
            (sender, service)
        } else {
            (service, "/StatusNotifierItem".to_string())
        };
        self.state
            .lock()
            .unwrap()
            .items
            .push((name.clone(), path.clone()));
        let _ = Self::status_notifier_item_registered(&emitter, &format!("{name}{path}")).await;
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .items
            .iter()
            .map(|(n, p)| format!("{n}{p}"))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_registered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

/// A tray host as a desktop panel runs it: it takes items' registrations, reads their menus
/// and clicks their entries.
pub struct TrayHost {
    conn: zbus::Connection,
    state: Arc<Mutex<WatcherState>>,
}

impl std::fmt::Debug for TrayHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrayHost").finish()
    }
}

type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

impl TrayHost {
    pub async fn start(address: &str) -> TrayHost {
        let state: Arc<Mutex<WatcherState>> = Arc::default();
        let conn = zbus::connection::Builder::address(address)
            .unwrap()
            .name("org.kde.StatusNotifierWatcher")
            .unwrap()
            .serve_at(
                "/StatusNotifierWatcher",
                Watcher {
                    state: state.clone(),
                },
            )
            .unwrap()
            .build()
            .await
            .unwrap();
        TrayHost { conn, state }
    }

    fn item(&self) -> Option<(String, String)> {
        self.state.lock().unwrap().items.last().cloned()
    }

    async fn menu_path(&self, name: &str, path: &str) -> Option<zbus::zvariant::OwnedObjectPath> {
        let props = zbus::fdo::PropertiesProxy::builder(&self.conn)
            .destination(name.to_string())
            .ok()?
            .path(path.to_string())
            .ok()?
            .build()
            .await
            .ok()?;
        let iface = zbus::names::InterfaceName::try_from("org.kde.StatusNotifierItem").ok()?;
        let v = props.get(iface, "Menu").await.ok()?;
        zbus::zvariant::OwnedObjectPath::try_from(v).ok()
    }

    /// The registered item's menu, flattened in order; empty until an item registered.
    pub async fn menu(&self) -> Vec<TrayEntry> {
        let Some((name, path)) = self.item() else {
            return Vec::new();
        };
        let Some(menu) = self.menu_path(&name, &path).await else {
            return Vec::new();
        };
        let reply = self
            .conn
            .call_method(
                Some(name.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetLayout",
                &(0i32, -1i32, Vec::<&str>::new()),
            )
            .await;
        let Ok(reply) = reply else {
            return Vec::new();
        };
        let Ok((_revision, root)) = reply.body().deserialize::<(u32, Layout)>() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for child in root.2 {
            flatten(&child, &mut out);
        }
        out
    }

    /// Clicks the entry whose label starts with `label`, as the panel does when the agent
    /// picks it. Panics when there is none (the test names what it expects).
    pub async fn click(&self, label: &str) {
        let entries = self.menu().await;
        let entry = entries
            .iter()
            .find(|e| e.label.starts_with(label))
            .unwrap_or_else(|| panic!("no tray entry {label:?} in {entries:?}"));
        let (name, path) = self.item().unwrap();
        let menu = self.menu_path(&name, &path).await.unwrap();
        self.conn
            .call_method(
                Some(name.as_str()),
                menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "Event",
                &(entry.id, "clicked", zbus::zvariant::Value::I32(0), 0u32),
            )
            .await
            .unwrap();
    }
}

fn flatten(v: &OwnedValue, out: &mut Vec<TrayEntry>) {
    use zbus::zvariant::Value;
    let mut value: &Value<'_> = v;
    // Inside an `av`, each child is a variant holding the structure.
    while let Value::Value(inner) = value {
        value = inner;
    }
    let Value::Structure(s) = value else { return };
    let fields = s.fields();
    let (Some(Value::I32(id)), Some(Value::Dict(props)), Some(Value::Array(children))) =
        (fields.first(), fields.get(1), fields.get(2))
    else {
        return;
    };
    let text = |key: &str| -> Option<String> { props.get::<&str, String>(&key).ok().flatten() };
    let label = text("label").unwrap_or_default().replace('_', "");
    out.push(TrayEntry {
        id: *id,
        label,
        enabled: props
            .get::<&str, bool>(&"enabled")
            .ok()
            .flatten()
            .unwrap_or(true),
        checked: props.get::<&str, i32>(&"toggle-state").ok().flatten(),
        separator: text("type").as_deref() == Some("separator"),
    });
    for c in children.iter() {
        if let Ok(owned) = OwnedValue::try_from(c.clone()) {
            flatten(&owned, out);
        }
    }
}
