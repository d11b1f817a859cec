//! The top bar: the agent, their status, the phone and backend pills, settings and sign-out.

use std::rc::Rc;

use ringside_core::engine::{AgentState, AgentStatus};
use ringside_core::ipc::cmd;
use ringside_core::{EngineView, IpcError, Language, PauseReason, SyncView};
use serde_json::json;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::{run, select_value, Tx};
use crate::tauri;
use crate::view;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub t: Tx,
    pub engine: Rc<EngineView>,
    pub sync: Rc<SyncView>,
    pub pause_reasons: Rc<Vec<PauseReason>>,
    pub language: Language,
    pub demo: bool,
    /// Traffic leaves this computer unencrypted (a lab's policy allows it).
    pub insecure: bool,
    pub webrtc_missing: bool,
    pub on_error: Callback<IpcError>,
    pub on_settings: Callback<MouseEvent>,
}

#[function_component(Header)]
pub fn header(p: &HeaderProps) -> Html {
    let t = p.t;
    let e = &p.engine;
    let (reg, reg_class) = view::registration_label(
        t,
        e.registration,
        e.registration_stalled_s.is_some(),
        p.webrtc_missing,
    );
    let agent = e
        .agent
        .as_ref()
        .map(|a| format!("{} · {}", a.name, a.extension))
        .unwrap_or_default();
    let sync = &p.sync;
    let sync_class = if sync.online { "ok" } else { "warn" };
    let sync_text = view::sync_label(t, sync.online, sync.pending);
    let current = match &e.agent_status {
        Some(AgentStatus {
            state: AgentState::Paused,
            reason,
        }) => format!("paused:{}", reason.clone().unwrap_or_default()),
        Some(AgentStatus {
            state: AgentState::Available,
            ..
        }) => "available".into(),
        _ => "logged_out".into(),
    };
    // The menu shows the status the backend has. A change the agent asked for shows as
    // pending until the backend confirms it; refused or unreachable, the menu goes back.
    let requested = use_state(|| None::<String>);
    let select_ref = use_node_ref();
    // The one the agent asked for while the backend has not answered, else the backend's.
    let shown = requested.as_deref().unwrap_or(&current).to_string();
    {
        // The DOM keeps what the agent picked whatever the vdom says: set it to the truth.
        let (select_ref, shown) = (select_ref.clone(), shown.clone());
        use_effect(move || {
            if let Some(select) = select_ref.cast::<HtmlSelectElement>() {
                if select.value() != shown {
                    select.set_value(&shown);
                }
            }
            || ()
        });
    }
    {
        // Confirmed: the pending marker goes.
        let requested = requested.clone();
        use_effect_with(current.clone(), move |current| {
            if requested.as_deref() == Some(current.as_str()) {
                requested.set(None);
            }
            || ()
        });
    }
    let onchange = {
        let (on_error, requested) = (p.on_error.clone(), requested.clone());
        Callback::from(move |ev: Event| {
            let v = select_value(&ev);
            let status = match v.split_once(':') {
                Some(("paused", reason)) => json!({"state": "paused", "reason": reason}),
                _ => json!({"state": v, "reason": null}),
            };
            requested.set(Some(v));
            let (on_error, requested) = (on_error.clone(), requested.clone());
            spawn_local(async move {
                let result = tauri::call(cmd::SET_AGENT_STATUS, &json!({ "status": status })).await;
                if let Err(e) = result {
                    requested.set(None);
                    on_error.emit(e);
                }
            });
        })
    };
    let pending = requested.is_some() && *requested != Some(current.clone());
    let sign_out = {
        let on_error = p.on_error.clone();
        Callback::from(move |_| run(cmd::SIGN_OUT, json!({}), on_error.clone()))
    };
    html! {
        <header class="top">
            <div class="top-row">
                <div class="brand">{ "Ringside" }</div>
                <div class="agent" id="agent-name">{ agent }</div>
                <label class={classes!("status-select", pending.then_some("pending"))}>
                    <span class="visually-hidden">{ t.status_label }</span>
                    <select id="agent-status" ref={select_ref} aria-label={t.status_label} onchange={onchange} data-state={current.clone()}
                        data-pending={pending.to_string()} aria-busy={pending.to_string()}>
                        <option value="available" selected={shown == "available"}>{ t.available }</option>
                        { for p.pause_reasons.iter().map(|r| {
                            let v = format!("paused:{}", r.reason);
                            html! { <option value={v.clone()} selected={shown == v}>{ format!("{} — {}", t.paused, r.label_in(p.language.as_str())) }</option> }
                        }) }
                        <option value="logged_out" selected={shown == "logged_out"}>{ t.logged_out }</option>
                    </select>
                    <span class="status-pending muted" aria-hidden={(!pending).to_string()}>{ if pending { t.status_pending } else { "" } }</span>
                </label>
                <div class="top-actions">
                    <button id="settings-open" onclick={p.on_settings.clone()}>{ t.settings }</button>
                    <button id="sign-out" onclick={sign_out}>{ t.sign_out }</button>
                </div>
            </div>
            <div class="pills" role="status">
                <span class={classes!("pill", reg_class)} id="registration" title={e.registration_reason.clone().unwrap_or_default()}>{ reg }</span>
                <span class={classes!("pill", sync_class)} id="sync-state" title={sync_text.clone()}>{ sync_text }</span>
                <span class={classes!("pill", if sync.agent_socket { "ok" } else { "warn" })} id="live-state">
                    { if sync.agent_socket { t.live_link } else { t.live_link_down } }
                </span>
                if p.insecure { <span class="pill bad" id="not-secure" title={t.not_secure_detail}>{ t.not_secure }</span> }
                if p.demo { <span class="pill demo">{ "Demo" }</span> }
            </div>
        </header>
    }
}
