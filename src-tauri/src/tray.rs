//! The tray icon: the agent's status as the icon's colour (red ringing, blue on a call, green
//! available, amber paused, grey otherwise), and a menu to show the window, change status
//! (with the backend's pause reasons), hang up, and quit. On Linux it is a
//! StatusNotifierItem (libayatana-appindicator) with its menu over D-Bus.

use std::sync::Mutex;

use ringside_core::desktop::{DesktopState, GlobalAction};
use ringside_core::{AgentState, AgentStatus, Language};
use ringside_service::Handle;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};
use tracing::{info, warn};

use crate::desktop::bring_forward;

const ICON: &[u8] = include_bytes!("../../icons/32x32.png");

/// The tray, and the menu it shows now (rebuilt only when what it shows changes).
pub struct Tray {
    icon: TrayIcon,
    shown: Mutex<Option<Model>>,
}

/// What the menu and the icon show.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Model {
    language: Language,
    /// `available`, `paused:<reason>`, `logged_out`, or nothing before sign-in.
    status: Option<String>,
    pauses: Vec<(String, String)>,
    current_call: Option<String>,
    colour: [u8; 3],
    tooltip: String,
}

impl Model {
    fn of(state: &DesktopState) -> Self {
        let status = state.signed_in.then(|| match &state.agent_status {
            Some(AgentStatus {
                state: AgentState::Available,
                ..
            }) => "available".to_string(),
            Some(AgentStatus {
                state: AgentState::Paused,
                reason,
            }) => format!("paused:{}", reason.clone().unwrap_or_default()),
            _ => "logged_out".to_string(),
        });
        let colour = if !state.ringing.is_empty() {
            [0xd1, 0x24, 0x2f]
        } else if state.in_call {
            [0x1f, 0x6f, 0xeb]
        } else {
            match status.as_deref() {
                Some("available") => [0x1a, 0x7f, 0x37],
                Some(s) if s.starts_with("paused:") => [0xbf, 0x87, 0x00],
                _ => [0x6e, 0x77, 0x81],
            }
        };
        Self {
            language: state.language,
            status,
            pauses: state.pause_reasons.clone(),
            current_call: state.current_call.clone(),
            colour,
            tooltip: format!("Ringside: {}", state.status_line()),
        }
    }
}

struct Words {
    show: &'static str,
    available: &'static str,
    paused: &'static str,
    logged_out: &'static str,
    hang_up: &'static str,
    quit: &'static str,
}

fn words(language: Language) -> Words {
    match language {
        Language::Fr => Words {
            show: "Afficher Ringside",
            available: "Disponible",
            paused: "En pause",
            logged_out: "Hors file",
            hang_up: "Raccrocher",
            quit: "Quitter Ringside",
        },
        Language::En => Words {
            show: "Show Ringside",
            available: "Available",
            paused: "Paused",
            logged_out: "Log out of queues",
            hang_up: "Hang up",
            quit: "Quit Ringside",
        },
    }
}

/// The app's icon with a status dot in its lower right corner.
fn icon(colour: [u8; 3]) -> Image<'static> {
    let base = Image::from_bytes(ICON).ok();
    let (w, h, mut rgba) = match &base {
        Some(i) => (i.width(), i.height(), i.rgba().to_vec()),
        None => (32, 32, vec![0; 32 * 32 * 4]),
    };
    let (cx, cy) = (w as f32 * 0.72, h as f32 * 0.72);
    let r = w as f32 * 0.26;
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let px = ((y * w + x) * 4) as usize;
            if d <= r {
                rgba[px..px + 4].copy_from_slice(&[colour[0], colour[1], colour[2], 255]);
            } else if d <= r + 1.5 {
                // A white ring keeps the dot readable on any panel colour.
                rgba[px..px + 4].copy_from_slice(&[255, 255, 255, 255]);
            }
        }
    }
    Image::new_owned(rgba, w, h)
}

fn menu(app: &AppHandle, m: &Model) -> tauri::Result<Menu<tauri::Wry>> {
    let w = words(m.language);
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(app, "show", w.show, true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    let signed_in = m.status.is_some();
    let status = m.status.as_deref().unwrap_or_default();
    menu.append(&CheckMenuItem::with_id(
        app,
        "status:available",
        w.available,
        signed_in,
        status == "available",
        None::<&str>,
    )?)?;
    for (reason, label) in &m.pauses {
        let id = format!("status:paused:{reason}");
        menu.append(&CheckMenuItem::with_id(
            app,
            id.clone(),
            format!("{} — {label}", w.paused),
            signed_in,
            status == &id["status:".len()..],
            None::<&str>,
        )?)?;
    }
    menu.append(&CheckMenuItem::with_id(
        app,
        "status:logged_out",
        w.logged_out,
        signed_in,
        status == "logged_out",
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "hangup",
        w.hang_up,
        m.current_call.is_some(),
        None::<&str>,
    )?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "quit", w.quit, true, None::<&str>)?)?;
    Ok(menu)
}

/// Creates the tray icon, in the signed-out state until the core says otherwise.
pub fn create(app: &AppHandle) -> tauri::Result<Tray> {
    let model = Model::of(&DesktopState::default());
    let icon = TrayIconBuilder::with_id("ringside")
        .icon(icon(model.colour))
        .tooltip(&model.tooltip)
        .menu(&menu(app, &model)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(Tray {
        icon,
        shown: Mutex::new(Some(model)),
    })
}

/// Brings the tray up to date with the desktop state; a no-op when nothing it shows changed.
pub fn update(app: &AppHandle, state: &DesktopState) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let model = Model::of(state);
    let Ok(mut shown) = tray.shown.lock() else {
        return;
    };
    if shown.as_ref() == Some(&model) {
        return;
    }
    let result = menu(app, &model).and_then(|m| {
        tray.icon.set_menu(Some(m))?;
        tray.icon.set_icon(Some(icon(model.colour)))?;
        tray.icon.set_tooltip(Some(&model.tooltip))
    });
    match result {
        Ok(()) => *shown = Some(model),
        Err(e) => warn!(error = %e, "tray not updated"),
    }
}

fn on_menu(app: &AppHandle, id: &str) {
    info!(item = id, "tray menu");
    let Some(handle) = app.try_state::<Handle>().map(|h| h.inner().clone()) else {
        bring_forward(app);
        return;
    };
    let app = app.clone();
    let id = id.to_string();
    tauri::async_runtime::spawn(async move {
        let result = match id.as_str() {
            "show" => {
                bring_forward(&app);
                Ok(())
            }
            "quit" => {
                quit(&app, &handle).await;
                Ok(())
            }
            // The same rule as the hang-up shortcut, on the same latest state.
            "hangup" => {
                crate::shortcuts::act(&app, GlobalAction::HangUp);
                Ok(())
            }
            s => match s.strip_prefix("status:") {
                Some("available") => {
                    handle
                        .set_agent_status(AgentStatus {
                            state: AgentState::Available,
                            reason: None,
                        })
                        .await
                }
                Some("logged_out") => {
                    handle
                        .set_agent_status(AgentStatus {
                            state: AgentState::LoggedOut,
                            reason: None,
                        })
                        .await
                }
                Some(p) => match p.strip_prefix("paused:") {
                    Some(reason) => {
                        handle
                            .set_agent_status(AgentStatus {
                                state: AgentState::Paused,
                                reason: Some(reason.to_string()),
                            })
                            .await
                    }
                    None => Ok(()),
                },
                None => Ok(()),
            },
        };
        if let Err(e) = result {
            // Refused (the queue, the backend away): the window says why.
            warn!(error = %e, item = %id, "tray action refused");
            bring_forward(&app);
        }
    });
}

/// Quits now when nothing is at risk; else the window comes forward and asks.
pub async fn quit(app: &AppHandle, handle: &Handle) {
    match handle.request_quit().await {
        Ok(false) => bring_forward(app),
        Ok(true) | Err(_) => app.exit(0),
    }
}
