//! The settings dialog: theme, language, the webphone's location, audio devices, shortcuts.

use std::rc::Rc;

use ringside_core::ipc::cmd;
use ringside_core::{IpcError, Language, Preferences, SettingsView, Theme};
use serde_json::json;
use yew::prelude::*;

use super::{input_value, run, select_value, Tx};

#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    pub t: Tx,
    pub preferences: Preferences,
    pub settings: Rc<SettingsView>,
    pub on_close: Callback<MouseEvent>,
    pub on_error: Callback<IpcError>,
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
    let onkeydown = {
        let close = p.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                if let Ok(ev) = MouseEvent::new("click") {
                    close.emit(ev);
                }
            }
        })
    };
    html! {
        <div class="modal-backdrop">
            <div class="panel modal" role="dialog" aria-modal="true" aria-labelledby="settings-title" {onkeydown}>
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
                <h3>{ t.shortcuts }</h3>
                <table class="shortcuts">
                    { for t.shortcut_list.iter().map(|(k, v)| html! { <tr><td><kbd>{ *k }</kbd></td><td>{ *v }</td></tr> }) }
                </table>
            </div>
        </div>
    }
}
