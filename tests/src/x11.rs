//! The app's window as the X server and a window manager see it: mapped or hidden, flagged
//! urgent or not, and closed the way a window manager's close button closes it.
//!
//! Xvfb runs no window manager, so WebDriver's "close window" destroys the webview without
//! asking the app; the close button on a real desktop sends `WM_DELETE_WINDOW` instead, and
//! that is what Ringside answers by hiding to the tray. This module sends that message.

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, MapState, Window,
};
use x11rb::rust_connection::RustConnection;

/// `XUrgencyHint` in `WM_HINTS.flags` (ICCCM 4.1.2.4).
const URGENCY_HINT: u32 = 1 << 8;

pub struct AppWindow {
    conn: RustConnection,
    window: Window,
}

impl AppWindow {
    /// The top-level window titled `title` that belongs to one of `pids` and accepts
    /// `WM_DELETE_WINDOW` (GTK's client leader and popups do not).
    pub fn find(pids: &[u32], title: &str) -> Option<AppWindow> {
        let (conn, screen) = x11rb::connect(None).ok()?;
        let root = conn.setup().roots[screen].root;
        let pid_atom = atom(&conn, "_NET_WM_PID")?;
        let name_atom = atom(&conn, "_NET_WM_NAME")?;
        let utf8 = atom(&conn, "UTF8_STRING")?;
        let delete = atom(&conn, "WM_DELETE_WINDOW")?;
        let protocols = atom(&conn, "WM_PROTOCOLS")?;
        let children = conn.query_tree(root).ok()?.reply().ok()?.children;
        let window = children.into_iter().find(|&w| {
            let pid = property32(&conn, w, pid_atom, AtomEnum::CARDINAL.into());
            let name = conn
                .get_property(false, w, name_atom, utf8, 0, 1024)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| String::from_utf8_lossy(&r.value).into_owned());
            let accepts = property32(&conn, w, protocols, AtomEnum::ATOM.into());
            pid.first().is_some_and(|p| pids.contains(p))
                && name.as_deref() == Some(title)
                && accepts.contains(&delete)
        })?;
        Some(AppWindow { conn, window })
    }

    /// Viewable: mapped, on screen (not hidden to the tray).
    pub fn shown(&self) -> bool {
        self.conn
            .get_window_attributes(self.window)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|a| a.map_state == MapState::VIEWABLE)
    }

    /// The urgency hint, which taskbars show as a flashing entry.
    pub fn urgent(&self) -> bool {
        property32(
            &self.conn,
            self.window,
            AtomEnum::WM_HINTS.into(),
            AtomEnum::WM_HINTS.into(),
        )
        .first()
        .is_some_and(|flags| flags & URGENCY_HINT != 0)
    }

    /// What a window manager sends when the agent clicks the window's close button.
    pub fn close_button(&self) {
        let (Some(protocols), Some(delete)) = (
            atom(&self.conn, "WM_PROTOCOLS"),
            atom(&self.conn, "WM_DELETE_WINDOW"),
        ) else {
            panic!("the X server has no WM_PROTOCOLS atom");
        };
        let event = ClientMessageEvent::new(32, self.window, protocols, [delete, 0, 0, 0, 0]);
        self.conn
            .send_event(false, self.window, EventMask::NO_EVENT, event)
            .expect("send WM_DELETE_WINDOW");
        self.conn.flush().expect("flush the X connection");
    }
}

fn atom(conn: &RustConnection, name: &str) -> Option<u32> {
    Some(
        conn.intern_atom(false, name.as_bytes())
            .ok()?
            .reply()
            .ok()?
            .atom,
    )
}

fn property32(conn: &RustConnection, w: Window, prop: u32, kind: u32) -> Vec<u32> {
    conn.get_property(false, w, prop, kind, 0, 64)
        .ok()
        .and_then(|c| c.reply().ok())
        .and_then(|r| r.value32().map(Iterator::collect))
        .unwrap_or_default()
}
