//! Incoming-call notifications through the desktop's notification server
//! (`org.freedesktop.Notifications` on the session bus: GNOME, KDE, XFCE, dunst, mako...),
//! with Answer and Decline buttons where the server offers actions. Critical urgency and the
//! `call.incoming` category: servers keep such a notification up until Ringside closes it,
//! which it does the moment the call stops ringing.
//!
//! Windows (toast) and macOS (UserNotifications) are not built yet: there the ringtone, the
//! urgency hint and the raised window are what the agent gets.

#[cfg(target_os = "linux")]
use std::collections::BTreeMap;

use ringside_core::desktop::DesktopState;
use tokio::sync::mpsc;
#[cfg(target_os = "linux")]
use tracing::{debug, info, warn};

use crate::ring::Reaction;
#[cfg(target_os = "linux")]
use crate::ring::{RingNotifications, Step};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("no notification server: {0}")]
    Bus(String),
    #[error("notifications are not built for this system yet")]
    Unsupported,
}

/// Whether the desktop shows tray icons: on Linux, a StatusNotifierWatcher on the session bus
/// (KDE, XFCE, GNOME with the AppIndicator extension); Windows and macOS always do. Without
/// one, closing the window must not hide Ringside where the agent cannot find it.
#[cfg(target_os = "linux")]
pub async fn tray_host_present(address: Option<&str>) -> bool {
    let conn = match address {
        Some(a) => match zbus::connection::Builder::address(a) {
            Ok(b) => b.build().await,
            Err(e) => Err(e),
        },
        None => zbus::Connection::session().await,
    };
    let Ok(conn) = conn else { return false };
    let Ok(dbus) = zbus::fdo::DBusProxy::new(&conn).await else {
        return false;
    };
    let Ok(name) = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher") else {
        return false;
    };
    dbus.name_has_owner(name).await.unwrap_or(false)
}

#[cfg(not(target_os = "linux"))]
pub async fn tray_host_present(_address: Option<&str>) -> bool {
    true
}

#[cfg(target_os = "linux")]
mod dbus {
    use std::collections::HashMap;

    #[zbus::proxy(
        interface = "org.freedesktop.Notifications",
        default_service = "org.freedesktop.Notifications",
        default_path = "/org/freedesktop/Notifications"
    )]
    pub trait Notifications {
        #[allow(clippy::too_many_arguments)]
        fn notify(
            &self,
            app_name: &str,
            replaces_id: u32,
            app_icon: &str,
            summary: &str,
            body: &str,
            actions: &[&str],
            hints: HashMap<&str, zbus::zvariant::Value<'_>>,
            expire_timeout: i32,
        ) -> zbus::Result<u32>;

        fn close_notification(&self, id: u32) -> zbus::Result<()>;

        fn get_capabilities(&self) -> zbus::Result<Vec<String>>;

        #[zbus(signal)]
        fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;

        #[zbus(signal)]
        fn notification_closed(&self, id: u32, reason: u32) -> zbus::Result<()>;
    }
}

/// A connection to the notification server and what it can do.
pub struct Notifier {
    #[cfg(target_os = "linux")]
    proxy: dbus::NotificationsProxy<'static>,
    actions: bool,
    server: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("actions", &self.actions)
            .field("server", &self.server)
            .finish()
    }
}

impl Notifier {
    /// The session bus's notification server (`address` names another bus, for tests).
    #[cfg(target_os = "linux")]
    pub async fn connect(address: Option<&str>) -> Result<Self, NotifyError> {
        let bus = |e: zbus::Error| NotifyError::Bus(e.to_string());
        let conn = match address {
            Some(a) => {
                zbus::connection::Builder::address(a)
                    .map_err(bus)?
                    .build()
                    .await
            }
            None => zbus::Connection::session().await,
        }
        .map_err(bus)?;
        let proxy = dbus::NotificationsProxy::new(&conn).await.map_err(bus)?;
        // Also the check that a server is there at all.
        let caps = proxy.get_capabilities().await.map_err(bus)?;
        let actions = caps.iter().any(|c| c == "actions");
        info!(actions, capabilities = ?caps, "notification server found");
        Ok(Self {
            proxy,
            actions,
            server: "org.freedesktop.Notifications".into(),
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub async fn connect(_address: Option<&str>) -> Result<Self, NotifyError> {
        Err(NotifyError::Unsupported)
    }

    /// Whether the server shows buttons (Answer, Decline); without, a click on the
    /// notification brings the window forward.
    pub fn supports_actions(&self) -> bool {
        self.actions
    }

    #[cfg(target_os = "linux")]
    async fn show(
        &self,
        replaces: u32,
        title: &str,
        body: &str,
        actions: &[(String, String)],
    ) -> Result<u32, NotifyError> {
        use zbus::zvariant::Value;
        let flat: Vec<&str> = if self.actions {
            actions
                .iter()
                .flat_map(|(k, l)| [k.as_str(), l.as_str()])
                .collect()
        } else {
            Vec::new()
        };
        let hints = std::collections::HashMap::from([
            ("urgency", Value::U8(2)),
            ("category", Value::from("call.incoming")),
            ("desktop-entry", Value::from("ringside")),
            ("sound-name", Value::from("phone-incoming-call")),
        ]);
        // 0: never expires; Ringside closes it when the call stops ringing.
        self.proxy
            .notify(
                "Ringside",
                replaces,
                "call-start",
                title,
                body,
                &flat,
                hints,
                0,
            )
            .await
            .map_err(|e| NotifyError::Bus(e.to_string()))
    }

    #[cfg(target_os = "linux")]
    async fn close(&self, id: u32) -> Result<(), NotifyError> {
        self.proxy
            .close_notification(id)
            .await
            .map_err(|e| NotifyError::Bus(e.to_string()))
    }

    /// Keeps the notifications in step with the desktop state received on `states`, and hands
    /// each action on them to `react`, until `states` closes. Errors are logged: a notification
    /// server that fails must never stop a call from ringing in the window.
    #[cfg(target_os = "linux")]
    pub async fn run(
        self,
        mut states: mpsc::UnboundedReceiver<DesktopState>,
        react: impl Fn(Reaction) + Send,
    ) {
        use futures_util::StreamExt;
        let mut ring = RingNotifications::default();
        // Notification id by call, and back.
        let mut ids: BTreeMap<String, u32> = BTreeMap::new();
        let mut actions = match self.proxy.receive_action_invoked().await {
            Ok(s) => Some(s),
            Err(e) => {
                warn!(error = %e, "notification actions unavailable");
                None
            }
        };
        loop {
            tokio::select! {
                state = states.recv() => {
                    let Some(state) = state else { break };
                    for step in ring.update(&state) {
                        self.carry_out(step, &mut ids).await;
                    }
                }
                Some(signal) = async {
                    match actions.as_mut() {
                        Some(a) => a.next().await,
                        None => std::future::pending().await,
                    }
                } => {
                    let Ok(args) = signal.args() else { continue };
                    let Some(call_id) = ids
                        .iter()
                        .find(|(_, id)| **id == args.id)
                        .map(|(c, _)| c.clone())
                    else {
                        // Another application's notification.
                        continue;
                    };
                    info!(call_id = %call_id, action = %args.action_key, "notification action");
                    if let Some(reaction) = ring.react(&call_id, &args.action_key) {
                        react(reaction);
                    }
                }
            }
        }
        for (_, id) in ids {
            let _ = self.close(id).await;
        }
    }

    #[cfg(target_os = "linux")]
    async fn carry_out(&self, step: Step, ids: &mut BTreeMap<String, u32>) {
        match step {
            Step::Show {
                call_id,
                title,
                body,
                actions,
            } => {
                let replaces = ids.get(&call_id).copied().unwrap_or(0);
                match self.show(replaces, &title, &body, &actions).await {
                    Ok(id) => {
                        debug!(call_id = %call_id, id, "incoming call notified");
                        ids.insert(call_id, id);
                    }
                    Err(e) => warn!(call_id = %call_id, error = %e, "notification not shown"),
                }
            }
            Step::Close { call_id } => {
                if let Some(id) = ids.remove(&call_id) {
                    if let Err(e) = self.close(id).await {
                        warn!(call_id = %call_id, error = %e, "notification not closed");
                    }
                }
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub async fn run(
        self,
        _states: mpsc::UnboundedReceiver<DesktopState>,
        _react: impl Fn(Reaction) + Send,
    ) {
    }
}
