//! The top bar: the agent, their status, the phone and backend pills, settings and sign-out.

use std::rc::Rc;

use ringside_core::engine::{AgentState, AgentStatus};
use ringside_core::ipc::cmd;
use ringside_core::{EngineView, IpcError, PauseReason, SyncView};
use serde_json::json;
use yew::prelude::*;

use super::{run, select_value, Tx};
use crate::view;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub t: Tx,
    pub engine: Rc<EngineView>,
    pub sync: Rc<SyncView>,
    pub pause_reasons: Rc<Vec<PauseReason>>,
    pub demo: bool,
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
    let onchange = {
        let on_error = p.on_error.clone();
        Callback::from(move |ev: Event| {
            let v = select_value(&ev);
            let status = match v.split_once(':') {
                Some(("paused", reason)) => json!({"state": "paused", "reason": reason}),
                _ => json!({"state": v, "reason": null}),
            };
            run(
                cmd::SET_AGENT_STATUS,
                json!({ "status": status }),
                on_error.clone(),
            );
        })
    };
    let sign_out = {
        let on_error = p.on_error.clone();
        Callback::from(move |_| run(cmd::SIGN_OUT, json!({}), on_error.clone()))
    };
    html! {
        <header class="top">
            <div class="brand">{ "Ringside" }</div>
            <div class="agent" id="agent-name">{ agent }</div>
            <label class="status-select">
                <span class="visually-hidden">{ t.status_label }</span>
                <select id="agent-status" aria-label={t.status_label} onchange={onchange} data-state={current.clone()}>
                    <option value="available" selected={current == "available"}>{ t.available }</option>
                    { for p.pause_reasons.iter().map(|r| {
                        let v = format!("paused:{}", r.reason);
                        html! { <option value={v.clone()} selected={current == v}>{ format!("{} — {}", t.paused, r.reason) }</option> }
                    }) }
                    <option value="logged_out" selected={current == "logged_out"}>{ t.logged_out }</option>
                </select>
            </label>
            <div class="pills">
                <span class={classes!("pill", reg_class)} id="registration" title={e.registration_reason.clone().unwrap_or_default()}>{ reg }</span>
                <span class={classes!("pill", sync_class)} id="sync-state">{ view::sync_label(t, sync.online, sync.pending) }</span>
                <span class={classes!("pill", if sync.agent_socket { "ok" } else { "warn" })} id="live-state">
                    { if sync.agent_socket { t.live_link } else { t.live_link_down } }
                </span>
                if p.demo { <span class="pill demo">{ "Demo" }</span> }
            </div>
            <div class="top-actions">
                <button id="settings-open" onclick={p.on_settings.clone()}>{ t.settings }</button>
                <button id="sign-out" onclick={sign_out}>{ t.sign_out }</button>
            </div>
        </header>
    }
}
