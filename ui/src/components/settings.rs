//! The settings dialog: theme, language, the webphone's location, audio devices, shortcuts.

use std::rc::Rc;

use ringside_core::ipc::cmd;
use ringside_core::{IpcError, Language, Preferences, SettingsView, Theme};
use serde_json::json;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use super::{input_value, run, select_value, use_focus, Tx};
use crate::view;

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub t: Tx,
    pub preferences: Preferences,
    pub settings: Rc<SettingsView>,
    pub on_close: Callback<MouseEvent>,
    pub on_error: Callback<IpcError>,
    /// Plays one ring at the chosen volume.
    pub on_ring_test: Callback<MouseEvent>,
    pub ring_testing: bool,
}

#[function_component(Settings)]
pub fn settings(p: &SettingsProps) -> Html {
    let t = p.t;
    let prefs = p.preferences;
    let s = &p.settings;
    let location = use_state(|| s.webphone.clone());
    let set_prefs = {
        let on_error = p.on_error.clone();
        move |next: Preferences| {
            run(
                cmd::SET_PREFERENCES,
                json!({ "preferences": next }),
                on_error.clone(),
            )
        }
    };
    let theme_radio = |value: Theme, label: &'static str, id: &'static str| {
        let set = set_prefs.clone();
        html! {
            <label class="radio" for={id}>
                <input type="radio" id={id} name="theme" checked={prefs.theme == value}
                    onchange={Callback::from(move |_| set(Preferences { theme: value, ..prefs }))} />
                { label }
            </label>
        }
    };
    let on_language = {
        let set = set_prefs.clone();
        Callback::from(move |e: Event| {
            let language = Language::parse(&select_value(&e));
            set(Preferences { language, ..prefs });
        })
    };
    let on_volume = {
        let set = set_prefs.clone();
        Callback::from(move |e: Event| {
            let ring_volume = Preferences::parse_volume(
                &e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            );
            set(Preferences {
                ring_volume,
                ..prefs
            });
        })
    };
    let on_start_at_login = {
        let on_error = p.on_error.clone();
        Callback::from(move |e: Event| {
            let enabled = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .checked();
            run(
                cmd::SET_START_AT_LOGIN,
                json!({ "enabled": enabled }),
                on_error.clone(),
            )
        })
    };
    let saved_to = use_state(|| None::<String>);
    let saving = use_state(|| false);
    let save_diagnostics = {
        let (saved_to, saving, on_error) = (saved_to.clone(), saving.clone(), p.on_error.clone());
        Callback::from(move |_: MouseEvent| {
            let (saved_to, saving, on_error) = (saved_to.clone(), saving.clone(), on_error.clone());
            saving.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match crate::tauri::call_for::<_, String>(cmd::SAVE_DIAGNOSTICS, &json!({})).await {
                    Ok(path) => saved_to.set(Some(path)),
                    Err(e) => on_error.emit(e),
                }
                saving.set(false);
            });
        })
    };
    let save_location = {
        let (location, on_error) = (location.clone(), p.on_error.clone());
        Callback::from(move |_| {
            run(
                cmd::SET_WEBPHONE_LOCATION,
                json!({ "location": *location }),
                on_error.clone(),
            )
        })
    };
    // A dialog, for the keyboard: it takes focus when it opens, Tab stays inside it, Escape
    // closes it, and focus goes back to what opened it.
    let dialog = use_node_ref();
    {
        let dialog = dialog.clone();
        use_effect_with((), move |_| {
            let document = web_sys::window().and_then(|w| w.document());
            let opener = view::focused().and_then(|e| e.dyn_into::<HtmlElement>().ok());
            if let Some(first) = dialog
                .cast::<Element>()
                .and_then(|d| focusables(&d).into_iter().next())
            {
                let _ = first.focus();
            }
            // However focus tries to leave (Shift+Tab from the first control, a click behind
            // the backdrop, a key the handler below did not see), it comes back: to the last
            // control when it left from the first, else to the first.
            let guard = {
                let dialog = dialog.clone();
                let last_inside: std::rc::Rc<std::cell::RefCell<Option<Element>>> =
                    std::rc::Rc::default();
                Closure::<dyn FnMut(web_sys::FocusEvent)>::new(move |e: web_sys::FocusEvent| {
                    let Some(d) = dialog.cast::<Element>() else {
                        return;
                    };
                    let target = e.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
                    if target.as_ref().is_some_and(|t| d.contains(Some(t))) {
                        *last_inside.borrow_mut() = target.and_then(|t| t.dyn_into().ok());
                        return;
                    }
                    let items = focusables(&d);
                    let was_first = matches!(
                        (last_inside.borrow().as_ref(), items.first()),
                        (Some(prev), Some(first)) if prev.is_same_node(Some(first))
                    );
                    let back = if was_first {
                        items.last()
                    } else {
                        items.first()
                    };
                    if let Some(el) = back {
                        let _ = el.focus();
                    }
                })
            };
            if let Some(doc) = &document {
                let _ =
                    doc.add_event_listener_with_callback("focusin", guard.as_ref().unchecked_ref());
            }
            move || {
                if let Some(doc) = document {
                    let _ = doc.remove_event_listener_with_callback(
                        "focusin",
                        guard.as_ref().unchecked_ref(),
                    );
                }
                if let Some(opener) = opener {
                    let _ = opener.focus();
                }
            }
        });
    }
    let onkeydown = {
        let (close, dialog) = (p.on_close.clone(), dialog.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                if let Ok(ev) = MouseEvent::new("click") {
                    close.emit(ev);
                }
                return;
            }
            if e.key() != "Tab" {
                return;
            }
            let Some(d) = dialog.cast::<Element>() else {
                return;
            };
            let items = focusables(&d);
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                return;
            };
            let active = view::focused();
            let at = |el: &HtmlElement| active.as_ref().is_some_and(|a| a.is_same_node(Some(el)));
            let inside = active.as_ref().is_some_and(|a| d.contains(Some(a)));
            if e.shift_key() && (at(first) || !inside) {
                e.prevent_default();
                let _ = last.focus();
            } else if !e.shift_key() && (at(last) || !inside) {
                e.prevent_default();
                let _ = first.focus();
            }
        })
    };
    html! {
        <div class="modal-backdrop">
            <div class="panel modal" role="dialog" aria-modal="true" aria-labelledby="settings-title" ref={dialog} {onkeydown}>
                <div class="call-head">
                    <h2 id="settings-title">{ t.settings }</h2>
                    <button id="settings-close" onclick={p.on_close.clone()}>{ t.close }</button>
                </div>
                <fieldset>
                    <legend>{ t.theme }</legend>
                    { theme_radio(Theme::System, t.theme_system, "theme-system") }
                    { theme_radio(Theme::Light, t.theme_light, "theme-light") }
                    { theme_radio(Theme::Dark, t.theme_dark, "theme-dark") }
                </fieldset>
                <label for="language">{ t.language }</label>
                <select id="language" onchange={on_language}>
                    <option value={Language::En.as_str()} selected={prefs.language == Language::En}>{ "English" }</option>
                    <option value={Language::Fr.as_str()} selected={prefs.language == Language::Fr}>{ "Français" }</option>
                </select>
                <label for="ring-volume">{ format!("{} ({}%)", t.ring_volume, prefs.ring_volume) }</label>
                <div class="row">
                    <input id="ring-volume" type="range" min="0" max="100" step="10" value={prefs.ring_volume.to_string()}
                        disabled={!s.ringtone} onchange={on_volume} />
                    <button id="ring-test" onclick={p.on_ring_test.clone()} disabled={!s.ringtone || prefs.ring_volume == 0}
                        aria-pressed={p.ring_testing.to_string()}>{ t.ring_test }</button>
                </div>
                if let Some(on) = s.start_at_login {
                    <label class="radio" for="start-at-login">
                        <input type="checkbox" id="start-at-login" checked={on} disabled={s.start_at_login_locked} onchange={on_start_at_login} />
                        { t.start_at_login }
                    </label>
                    if s.start_at_login_locked {
                        <p class="muted small">{ t.locked_by_it }</p>
                    }
                }
                <label for="webphone-location">{ t.webphone_location }</label>
                <div class="row">
                    <input id="webphone-location" value={(*location).clone()} disabled={s.webphone_locked}
                        placeholder={t.webphone_simulator}
                        oninput={{ let l = location.clone(); Callback::from(move |e: InputEvent| l.set(input_value(&e))) }} />
                    <button id="webphone-save" onclick={save_location} disabled={s.webphone_locked}>{ t.save }</button>
                </div>
                <p class="muted small">{ if s.webphone_locked { t.locked_by_it } else { t.webphone_hint } }</p>
                <h3>{ t.audio_devices }</h3>
                if s.audio_devices.is_empty() {
                    <p class="muted small">{ t.audio_devices_none }</p>
                } else {
                    <ul>{ for s.audio_devices.iter().map(|d| html! { <li>{ d.clone() }</li> }) }</ul>
                }
                if !s.global_shortcuts.is_empty() {
                    <h3>{ t.global_shortcuts }</h3>
                    <p class="muted small">{ t.global_shortcuts_hint }</p>
                    <table class="shortcuts" id="global-shortcuts">
                        { for s.global_shortcuts.iter().map(|g| {
                            let what = match g.action.as_str() {
                                "answer" => t.global_actions[0],
                                "hang_up" => t.global_actions[1],
                                "mute" => t.global_actions[2],
                                _ => t.global_actions[3],
                            };
                            html! {
                                <tr data-action={g.action.clone()} data-active={g.active.to_string()}>
                                    <td><kbd>{ g.keys.clone() }</kbd></td>
                                    <td>{ what }</td>
                                    <td class={if g.active { "small" } else { "small form-error" }}>
                                        { g.problem.clone().unwrap_or_else(|| t.shortcut_active.to_string()) }
                                    </td>
                                </tr>
                            }
                        }) }
                    </table>
                }
                <h3>{ t.diagnostics }</h3>
                <p class="muted small">{ t.diagnostics_hint }</p>
                <button id="save-diagnostics" onclick={save_diagnostics} disabled={*saving}>{ t.save_diagnostics }</button>
                if let Some(path) = &*saved_to {
                    <p id="diagnostics-saved" class="small" role="status">{ t.diagnostics_saved.replace("{path}", path) }</p>
                }
                <h3>{ t.shortcuts }</h3>
                <table class="shortcuts">
                    { for t.shortcut_list.iter().map(|(k, v)| html! { <tr><td><kbd>{ *k }</kbd></td><td>{ *v }</td></tr> }) }
                </table>
            </div>
        </div>
    }
}

/// What Tab can reach inside `root`, in document order.
fn focusables(root: &Element) -> Vec<HtmlElement> {
    let Ok(list) = root.query_selector_all(
        "button:not([disabled]), input:not([disabled]), select:not([disabled]), \
         textarea:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])",
    ) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct QuitProps {
    pub t: Tx,
    /// What quitting now would lose, as the core words it.
    pub warning: String,
    pub on_error: Callback<IpcError>,
}

/// Asked when the agent quits (the tray, the window's close) with work at risk. "Stay" has the
/// focus: Enter, or a reflex, must not cut a customer off.
#[function_component(QuitPrompt)]
pub fn quit_prompt(p: &QuitProps) -> Html {
    let t = p.t;
    let stay_ref = use_node_ref();
    use_focus(stay_ref.clone(), ());
    let answer = |confirmed: bool| {
        let on_error = p.on_error.clone();
        Callback::from(move |_: MouseEvent| {
            run(
                cmd::QUIT,
                json!({ "confirmed": confirmed }),
                on_error.clone(),
            )
        })
    };
    html! {
        <div class="modal-backdrop">
            <div class="panel modal" id="quit-prompt" role="alertdialog" aria-modal="true" aria-labelledby="quit-title" aria-describedby="quit-warning">
                <div class="call-head"><h2 id="quit-title">{ t.quit_title }</h2></div>
                <p id="quit-warning">{ p.warning.clone() }</p>
                <div class="row">
                    <button id="quit-stay" class="accept" ref={stay_ref} onclick={answer(false)}>{ t.quit_stay }</button>
                    <button id="quit-anyway" class="reject" onclick={answer(true)}>{ t.quit_anyway }</button>
                </div>
            </div>
        </div>
    }
}
