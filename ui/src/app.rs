//! The components. State comes from the core's snapshot; intents go back as commands. The
//! only local state is what the agent is typing and which panel is open.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use ringside_core::engine::{AgentState, AgentStatus};
use ringside_core::ipc::SNAPSHOT_EVENT;
use ringside_core::phone::RegState;
use ringside_core::{
    CallDraft, CallStatus, ContactView, Direction, Disposition, DraftState, DraftView,
    HistoryEntry, Intent, IpcError, Language, LiveCall, PbxTransfer, PbxTransferState, Preferences,
    SessionState, Snapshot, TalkingTo, Theme,
};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::i18n::{texts, Texts};
use crate::tauri;
use crate::view::{self, HistoryFilter, Shortcut};

/// Autosave delay after the agent's last keystroke.
const DRAFT_DEBOUNCE_MS: u32 = 300;

type Tx = &'static Texts;

/// Runs a command; a failure lands in the app's error banner.
fn run(cmd: &'static str, args: serde_json::Value, on_error: Callback<IpcError>) {
    spawn_local(async move {
        if let Err(e) = tauri::call(cmd, &args).await {
            on_error.emit(e);
        }
    });
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// The current value of an input, read from the DOM. Callbacks built at the last render can
/// hold a value a fast typist (or a test driver) has already changed.
fn field_value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

#[function_component(App)]
pub fn app() -> Html {
    let snapshot = use_state(|| None::<Snapshot>);
    let error = use_state(|| None::<IpcError>);
    let settings_open = use_state(|| false);
    let latest: Rc<RefCell<Option<Snapshot>>> = use_mut_ref(|| None);
    *latest.borrow_mut() = (*snapshot).clone();

    let on_error = {
        let error = error.clone();
        Callback::from(move |e: IpcError| error.set(Some(e)))
    };
    let on_intent = {
        let on_error = on_error.clone();
        Callback::from(move |intent: Intent| {
            run("intent", json!({ "intent": intent }), on_error.clone());
        })
    };

    {
        let snapshot = snapshot.clone();
        let error = error.clone();
        use_effect_with((), move |_| {
            let s = snapshot.clone();
            spawn_local(async move {
                tauri::listen::<Snapshot>(SNAPSHOT_EVENT, move |snap| s.set(Some(snap))).await;
            });
            spawn_local(async move {
                match tauri::invoke::<_, Snapshot>("get_snapshot", &json!({})).await {
                    Ok(snap) => snapshot.set(Some(snap)),
                    Err(e) => error.set(Some(e)),
                }
            });
            || ()
        });
    }

    // In-window shortcuts: Alt+A/R/H/M/O act on the calls on screen, Alt+D goes to dialling.
    {
        let latest = latest.clone();
        let on_intent = on_intent.clone();
        use_effect_with((), move |_| {
            let listener = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
                move |e: web_sys::KeyboardEvent| {
                    if e.alt_key() && e.key().eq_ignore_ascii_case("d") {
                        if let Some(el) = web_sys::window()
                            .and_then(|w| w.document())
                            .and_then(|d| d.get_element_by_id("dial-number"))
                            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                        {
                            e.prevent_default();
                            let _ = el.focus();
                        }
                        return;
                    }
                    let Some(shortcut) = Shortcut::from_key(e.alt_key(), &e.key()) else {
                        return;
                    };
                    let calls = latest
                        .borrow()
                        .as_ref()
                        .map(|s| s.engine.calls.clone())
                        .unwrap_or_default();
                    if let Some(intent) = shortcut.intent(&calls) {
                        e.prevent_default();
                        on_intent.emit(intent);
                    }
                },
            );
            if let Some(w) = web_sys::window() {
                let _ = w
                    .add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
            }
            listener.forget();
            || ()
        });
    }

    // Core → screen lag of every snapshot, kept (last 1,000) in `window.ringsideLag` for
    // measurement runs; the figures are read by the end-to-end test, not asserted.
    {
        let built = snapshot.as_ref().map(|s| s.built_at_ms);
        use_effect_with(built, move |built| {
            if let (Some(built), Some(w)) = (built, web_sys::window()) {
                let lag = js_sys::Date::now() - *built as f64;
                let key = wasm_bindgen::JsValue::from_str("ringsideLag");
                let arr = match js_sys::Reflect::get(&w, &key)
                    .ok()
                    .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
                {
                    Some(a) => a,
                    None => {
                        let a = js_sys::Array::new();
                        let _ = js_sys::Reflect::set(&w, &key, &a);
                        a
                    }
                };
                arr.push(&wasm_bindgen::JsValue::from_f64(lag));
                if arr.length() > 1000 {
                    arr.shift();
                }
            }
            || ()
        });
    }

    // Theme and language live on <html>, where CSS and screen readers look for them.
    {
        let prefs = snapshot.as_ref().map(|s| s.preferences);
        use_effect_with(prefs, move |prefs| {
            if let (Some(p), Some(root)) = (
                prefs,
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.document_element()),
            ) {
                let theme = match p.theme {
                    Theme::System => "system",
                    Theme::Light => "light",
                    Theme::Dark => "dark",
                };
                let _ = root.set_attribute("data-theme", theme);
                let _ = root.set_attribute(
                    "lang",
                    if p.language == Language::Fr {
                        "fr"
                    } else {
                        "en"
                    },
                );
            }
            || ()
        });
    }

    let Some(snap) = (*snapshot).clone() else {
        if let Some(e) = (*error).clone() {
            return html! {
                <main class="loading">
                    <div class="panel startup-error" role="alert" data-code={e.code.clone()}>
                        <h1>{ "Ringside cannot start" }</h1>
                        <p>{ e.message }</p>
                    </div>
                </main>
            };
        }
        return html! { <main class="loading" aria-busy="true">{ crate::i18n::EN.starting }</main> };
    };
    let t: Tx = texts(snap.preferences.language);

    if snap.session.state != SessionState::SignedIn {
        return html! { <SignIn t={t} snapshot={snap} /> };
    }

    let notice = (*error).clone().or_else(|| snap.notice.clone());
    let dismiss = {
        let error = error.clone();
        let on_error = on_error.clone();
        Callback::from(move |_| {
            error.set(None);
            run("dismiss_notice", json!({}), on_error.clone());
        })
    };
    let open_settings = {
        let s = settings_open.clone();
        Callback::from(move |_| s.set(true))
    };
    let close_settings = {
        let s = settings_open.clone();
        Callback::from(move |_| s.set(false))
    };
    let reg_failed = snap.engine.registration == Some(RegState::Failed);
    let any_talking = snap
        .engine
        .calls
        .iter()
        .any(|c| c.log.status == CallStatus::Talking);

    html! {
        <div class="shell">
            <Header t={t} snapshot={snap.clone()} on_error={on_error.clone()} on_settings={open_settings} />
            <div class="banners" aria-live="polite">
                if let Some(n) = notice {
                    <div class="notice" role="alert" data-code={n.code.clone()}>
                        <span>{ n.message.clone() }</span>
                        <button class="link" onclick={dismiss}>{ t.dismiss }</button>
                    </div>
                }
                if !snap.sync.online {
                    <div class="notice offline" role="status" data-code="backend_unreachable">{ t.offline_banner }</div>
                }
                if reg_failed {
                    <div class="notice bad" role="alert" data-code="registration_failed">
                        { format!("{}: {}", t.registration_failed, snap.engine.registration_reason.clone().unwrap_or_default()) }
                    </div>
                }
                if let (Some(secs), false) = (snap.engine.registration_stalled_s, reg_failed) {
                    <div class="notice bad" role="alert" data-code="registration_stalled">
                        <span>{ t.registration_stalled
                            .replace("{s}", &secs.to_string())
                            .replace("{status}", snap.engine.phone_status.as_deref().unwrap_or("—")) }</span>
                        if let Some(d) = &snap.engine.phone_display {
                            <span class="display-text">{ format!(" {} : {}", t.webphone_says, d.trim_matches(|c: char| c == ',' || c.is_whitespace())) }</span>
                        }
                    </div>
                }
            </div>
            <main class="workspace">
                <section class="calls" aria-label={t.talking}>
                    if snap.engine.calls.is_empty() && snap.drafts.is_empty() {
                        <div class="idle">
                            <p class="idle-title">{ t.no_call }</p>
                            <p class="muted">{ t.no_call_hint }</p>
                        </div>
                    }
                    { for snap.engine.calls.iter().map(|c| {
                        let waiting = any_talking && c.log.status == CallStatus::Ringing && c.log.direction == Direction::Inbound;
                        let consulting = snap.engine.calls.iter().any(|o| o.log.consult_for.as_deref() == Some(c.log.call_id.as_str()));
                        html! {
                            <CallCard key={c.log.call_id.clone()} t={t} call={c.clone()} waiting={waiting} consulting={consulting}
                                demo={snap.demo} on_intent={on_intent.clone()} on_error={on_error.clone()} />
                        }
                    }) }
                    <Drafts t={t} drafts={snap.drafts.clone()} dispositions={snap.dispositions.clone()} on_error={on_error.clone()} />
                </section>
                <aside class="side">
                    <Dialer t={t} redial={view::last_dialled(&snap.history)} on_intent={on_intent.clone()} />
                    if snap.demo {
                        <DemoPanel t={t} on_error={on_error.clone()} />
                    }
                    <Lists t={t} history={snap.history.clone()} contacts={snap.contacts.clone()} on_intent={on_intent.clone()} />
                </aside>
            </main>
            if *settings_open {
                <Settings t={t} snapshot={snap.clone()} on_close={close_settings} on_error={on_error.clone()} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SignInProps {
    t: Tx,
    snapshot: Snapshot,
}

#[function_component(SignIn)]
fn sign_in(p: &SignInProps) -> Html {
    let t = p.t;
    let session = &p.snapshot.session;
    let username = use_state(|| session.username.clone());
    let password = use_state(String::new);
    let (user_ref, pass_ref) = (use_node_ref(), use_node_ref());
    let local_error = use_state(|| None::<IpcError>);
    let busy = session.state == SessionState::SigningIn;
    let onsubmit = {
        let (user_ref, pass_ref, local_error) =
            (user_ref.clone(), pass_ref.clone(), local_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // What is in the fields now, not what the last render saw.
            let args =
                json!({ "username": field_value(&user_ref), "password": field_value(&pass_ref) });
            let local_error = local_error.clone();
            local_error.set(None);
            spawn_local(async move {
                if let Err(e) = tauri::call("sign_in", &args).await {
                    local_error.set(Some(e));
                }
            });
        })
    };
    let error = (*local_error).clone().or_else(|| session.error.clone());
    html! {
        <main class="signin">
            <form class="panel signin-card" onsubmit={onsubmit} aria-labelledby="signin-title">
                <div class="brand">{ "Ringside" }</div>
                <h1 id="signin-title">{ t.sign_in_title }</h1>
                <p class="muted">{ t.sign_in_intro }</p>
                <label for="signin-username">{ t.username }</label>
                <input id="signin-username" ref={user_ref} autocomplete="username" value={(*username).clone()}
                    oninput={{ let u = username.clone(); Callback::from(move |e: InputEvent| u.set(input_value(&e))) }} />
                <label for="signin-password">{ t.password }</label>
                <input id="signin-password" ref={pass_ref} type="password" autocomplete="current-password" value={(*password).clone()}
                    oninput={{ let pw = password.clone(); Callback::from(move |e: InputEvent| pw.set(input_value(&e))) }} />
                <label for="signin-backend">{ t.backend }</label>
                <input id="signin-backend" value={session.backend_url.clone()} readonly=true />
                if let Some(e) = error {
                    <p class="form-error" role="alert" data-code={e.code.clone()}>{ e.message }</p>
                }
                <button id="signin-submit" type="submit" class="accept" disabled={busy}>
                    { if busy { t.signing_in } else { t.sign_in } }
                </button>
            </form>
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct HeaderProps {
    t: Tx,
    snapshot: Snapshot,
    on_error: Callback<IpcError>,
    on_settings: Callback<MouseEvent>,
}

#[function_component(Header)]
fn header(p: &HeaderProps) -> Html {
    let t = p.t;
    let e = &p.snapshot.engine;
    let (reg, reg_class) = view::registration_label(
        t,
        e.registration,
        e.registration_stalled_s.is_some(),
        p.snapshot.webrtc_missing,
    );
    let agent = e
        .agent
        .as_ref()
        .map(|a| format!("{} · {}", a.name, a.extension))
        .unwrap_or_default();
    let sync = &p.snapshot.sync;
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
                "set_agent_status",
                json!({ "status": status }),
                on_error.clone(),
            );
        })
    };
    let sign_out = {
        let on_error = p.on_error.clone();
        Callback::from(move |_| run("sign_out", json!({}), on_error.clone()))
    };
    html! {
        <header class="top">
            <div class="brand">{ "Ringside" }</div>
            <div class="agent" id="agent-name">{ agent }</div>
            <label class="status-select">
                <span class="visually-hidden">{ t.status_label }</span>
                <select id="agent-status" aria-label={t.status_label} onchange={onchange} data-state={current.clone()}>
                    <option value="available" selected={current == "available"}>{ t.available }</option>
                    { for p.snapshot.pause_reasons.iter().map(|r| {
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
                if p.snapshot.demo { <span class="pill demo">{ "Demo" }</span> }
            </div>
            <div class="top-actions">
                <button id="settings-open" onclick={p.on_settings.clone()}>{ t.settings }</button>
                <button id="sign-out" onclick={sign_out}>{ t.sign_out }</button>
            </div>
        </header>
    }
}

#[derive(Properties, PartialEq)]
struct CallCardProps {
    t: Tx,
    call: LiveCall,
    waiting: bool,
    /// A consultation for this call is under way (attended transfer).
    consulting: bool,
    demo: bool,
    on_intent: Callback<Intent>,
    on_error: Callback<IpcError>,
}

#[function_component(CallCard)]
fn call_card(p: &CallCardProps) -> Html {
    let t = p.t;
    let log = &p.call.log;
    let id = log.call_id.clone();
    let keypad = use_state(|| false);
    let intent = |make: fn(String) -> Intent| {
        let on = p.on_intent.clone();
        let id = id.clone();
        Callback::from(move |_: MouseEvent| on.emit(make(id.clone())))
    };
    let hold = {
        let on = p.on_intent.clone();
        let (id, held) = (id.clone(), log.on_hold);
        Callback::from(move |_| {
            on.emit(Intent::Hold {
                call_id: id.clone(),
                on: !held,
            })
        })
    };
    let mute = {
        let on = p.on_intent.clone();
        let (id, muted) = (id.clone(), log.muted);
        Callback::from(move |_| {
            on.emit(Intent::Mute {
                call_id: id.clone(),
                on: !muted,
            })
        })
    };
    let toggle_keypad = {
        let k = keypad.clone();
        Callback::from(move |_| k.set(!*k))
    };
    let transfer_open = use_state(|| false);
    let transfer_number = use_state(String::new);
    let transfer_ref = use_node_ref();
    let toggle_transfer = {
        let t = transfer_open.clone();
        Callback::from(move |_| t.set(!*t))
    };
    let transfer = |attended: bool| {
        let (on, id, field, open) = (
            p.on_intent.clone(),
            id.clone(),
            transfer_ref.clone(),
            transfer_open.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let number = field_value(&field);
            if number.trim().is_empty() {
                return;
            }
            open.set(false);
            on.emit(if attended {
                Intent::ConsultStart {
                    call_id: id.clone(),
                    number,
                }
            } else {
                Intent::BlindTransfer {
                    call_id: id.clone(),
                    number,
                }
            });
        })
    };
    let is_consult = log.consult_for.is_some();
    let pbx = p.call.pbx_transfer.clone();
    let remote_hangup = {
        let on_error = p.on_error.clone();
        let id = id.clone();
        Callback::from(move |_| {
            run(
                "simulate",
                json!({"action": "remote_hangup", "callId": id}),
                on_error.clone(),
            )
        })
    };
    let name = log.contact_name.clone().filter(|n| *n != log.peer);
    let label = if p.waiting {
        t.call_waiting
    } else if is_consult && !log.on_hold {
        t.consultation
    } else {
        view::status_label(t, log.status, log.direction, log.on_hold)
    };
    html! {
        <article class={classes!("call-card", log.status.as_str(), log.on_hold.then_some("held"))}
            data-status={log.status.as_str()} data-call-id={id.clone()} aria-label={label}>
            <div class="call-head">
                <span class="call-label">{ label }</span>
                if log.status == CallStatus::Talking {
                    <span class="talk-timer" role="timer" aria-label={t.talk_time}>{ view::timer(p.call.talk_seconds_now) }</span>
                }
            </div>
            <div class="peer">
                <span class="contact-name">{ name.clone().unwrap_or_else(|| log.peer.clone()) }</span>
                if name.is_some() { <span class="peer-number">{ log.peer.clone() }</span> }
            </div>
            if let Some(q) = &log.queue {
                <div class="queue" data-queue={q.queue_number.clone()}>{ format!("{} {} · {}", t.queue, q.queue_number, q.queue_name) }</div>
            }
            <div class="actions">
                { match (log.status, log.direction) {
                    (CallStatus::Ringing, Direction::Inbound) => html! { <>
                        <button class="accept" data-action="accept" aria-keyshortcuts="Alt+A" onclick={intent(|call_id| Intent::Accept { call_id })}>{ t.accept }</button>
                        <button class="reject" data-action="reject" aria-keyshortcuts="Alt+R" onclick={intent(|call_id| Intent::Reject { call_id })}>{ t.reject }</button>
                    </> },
                    (CallStatus::Ringing, Direction::Outbound) => html! {
                        <button class="reject" data-action="hangup" aria-keyshortcuts="Alt+H" onclick={intent(|call_id| Intent::Hangup { call_id })}>{ t.cancel }</button>
                    },
                    _ if let Some(pt) = &pbx => html! { <>
                        { pbx_controls(t, pt, &intent) }
                        <button class="reject" data-action="hangup" aria-keyshortcuts="Alt+H" onclick={intent(|call_id| Intent::Hangup { call_id })}>{ t.hang_up }</button>
                    </> },
                    _ if is_consult => html! { <>
                        <button class="accept" data-action="consult-complete" onclick={intent(|call_id| Intent::ConsultComplete { call_id })}>{ t.complete_transfer }</button>
                        <button data-action="consult-swap" onclick={intent(|call_id| Intent::ConsultSwap { call_id })}>{ t.swap }</button>
                        <button class="reject" data-action="consult-cancel" onclick={intent(|call_id| Intent::ConsultCancel { call_id })}>{ t.cancel_consult }</button>
                    </> },
                    _ => html! { <>
                        <button data-action="hold" aria-keyshortcuts="Alt+O" aria-pressed={log.on_hold.to_string()} onclick={hold}>{ if log.on_hold { t.resume } else { t.hold } }</button>
                        <button data-action="mute" aria-keyshortcuts="Alt+M" aria-pressed={log.muted.to_string()} onclick={mute}>{ if log.muted { t.unmute } else { t.mute } }</button>
                        <button data-action="keypad" aria-expanded={keypad.to_string()} onclick={toggle_keypad}>{ t.keypad }</button>
                        if !p.consulting {
                            <button data-action="transfer" aria-expanded={transfer_open.to_string()} onclick={toggle_transfer}>{ t.transfer }</button>
                        }
                        <button class="reject" data-action="hangup" aria-keyshortcuts="Alt+H" onclick={intent(|call_id| Intent::Hangup { call_id })}>{ t.hang_up }</button>
                    </> },
                } }
                if p.demo && log.direction == Direction::Inbound {
                    <button class="link" data-action="remote-hangup" onclick={remote_hangup}>{ t.demo_hangup }</button>
                }
            </div>
            if let Some(pt) = &pbx {
                <div class="pbx-transfer" role="status" data-pbx-state={format!("{:?}", pt.state).to_lowercase()}>
                    { pbx_line(t, pt) }
                </div>
            }
            if *transfer_open && log.status == CallStatus::Talking && !is_consult && pbx.is_none() {
                <div class="transfer-form">
                    <label for={format!("transfer-{id}")}>{ t.transfer_to }</label>
                    <div class="row">
                        <input id={format!("transfer-{id}")} ref={transfer_ref.clone()} class="transfer-number" type="tel" value={(*transfer_number).clone()}
                            oninput={{ let n = transfer_number.clone(); Callback::from(move |e: InputEvent| n.set(input_value(&e))) }} />
                        <button data-action="transfer-blind" onclick={transfer(false)}>{ t.transfer_now }</button>
                        <button data-action="transfer-consult" onclick={transfer(true)}>{ t.consult_first }</button>
                    </div>
                </div>
            }
            if *keypad && log.status == CallStatus::Talking {
                <div class="keypad dtmf" role="group" aria-label={t.keypad}>
                    { for ["1","2","3","4","5","6","7","8","9","*","0","#"].iter().map(|d| {
                        let on = p.on_intent.clone();
                        let id = id.clone();
                        let digit = d.to_string();
                        html! { <button data-dtmf={*d} onclick={Callback::from(move |_| on.emit(Intent::Dtmf { call_id: id.clone(), digits: digit.clone() }))}>{ *d }</button> }
                    }) }
                </div>
            }
        </article>
    }
}

/// What the agent sees of a PBX transfer under way.
fn pbx_line(t: Tx, pt: &PbxTransfer) -> String {
    let n = pt.number.as_str();
    let text = match (pt.state, pt.talking_to) {
        (PbxTransferState::Pending, _) => t.pbx_transferring,
        (PbxTransferState::Threeway, _) => t.three_way_members,
        (_, Some(TalkingTo::Caller)) => t.pbx_consulting_caller,
        _ => t.pbx_consulting_target,
    };
    let mut line = text.replace("{n}", n);
    if pt.requested.is_some() {
        line = format!("{line} {}", t.pbx_step_pending);
    }
    line
}

/// The buttons of a PBX consultation: complete, swap, three-way, back to the caller. While
/// the transfer is only asked for, or a step is waiting for the PBX, none is offered.
fn pbx_controls(
    t: Tx,
    pt: &PbxTransfer,
    intent: &dyn Fn(fn(String) -> Intent) -> Callback<MouseEvent>,
) -> Html {
    let ready = pt.requested.is_none()
        && matches!(
            pt.state,
            PbxTransferState::Consulting | PbxTransferState::Threeway
        );
    if !ready {
        return html! {};
    }
    html! { <>
        <button class="accept" data-action="consult-complete" onclick={intent(|call_id| Intent::ConsultComplete { call_id })}>{ t.complete_transfer }</button>
        if pt.state == PbxTransferState::Consulting {
            <button data-action="consult-swap" onclick={intent(|call_id| Intent::ConsultSwap { call_id })}>{ t.swap }</button>
            <button data-action="consult-threeway" onclick={intent(|call_id| Intent::ConsultThreeway { call_id })}>{ t.three_way }</button>
        }
        <button class="reject" data-action="consult-cancel" onclick={intent(|call_id| Intent::ConsultCancel { call_id })}>{ t.cancel_consult }</button>
    </> }
}

#[derive(Properties, PartialEq)]
struct DraftsProps {
    t: Tx,
    drafts: Vec<DraftView>,
    dispositions: Vec<Disposition>,
    on_error: Callback<IpcError>,
}

#[function_component(Drafts)]
fn drafts(p: &DraftsProps) -> Html {
    let t = p.t;
    let open = use_state(|| None::<String>);
    if p.drafts.is_empty() {
        return html! {};
    }
    let first = p.drafts.first().map(|d| d.draft.call_log_id.clone());
    let current = (*open)
        .clone()
        .filter(|id| p.drafts.iter().any(|d| d.draft.call_log_id == *id))
        .or(first);
    html! {
        <section class="drafts" aria-label={t.unfinished_work}>
            if p.drafts.len() > 1 {
                <h2 class="section-title">{ format!("{} ({})", t.unfinished_work, p.drafts.len()) }</h2>
            }
            { for p.drafts.iter().map(|d| {
                let id = d.draft.call_log_id.clone();
                if Some(&id) == current.as_ref() {
                    html! { <DraftForm key={id.clone()} t={t} view={d.clone()} dispositions={p.dispositions.clone()} on_error={p.on_error.clone()} /> }
                } else {
                    let who = d.log.as_ref().map(|l| l.contact_name.clone().unwrap_or_else(|| l.peer.clone())).unwrap_or_default();
                    let open = open.clone();
                    html! {
                        <div class="draft-row" key={id.clone()} data-call-log-id={id.clone()}>
                            <span>{ who }</span>
                            <span class="muted">{ d.draft.notes.chars().take(40).collect::<String>() }</span>
                            <button data-action="resume-draft" onclick={Callback::from(move |_| open.set(Some(id.clone())))}>{ t.resume_draft }</button>
                        </div>
                    }
                }
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct DraftFormProps {
    t: Tx,
    view: DraftView,
    dispositions: Vec<Disposition>,
    on_error: Callback<IpcError>,
}

#[function_component(DraftForm)]
fn draft_form(p: &DraftFormProps) -> Html {
    let t = p.t;
    let initial = p.view.draft.clone();
    let draft = use_state(move || initial);
    // The draft as of the last keystroke, updated at once (the state above only at the next
    // render): every edit builds on it, and Submit sends it, so no keystroke is ever lost.
    let latest: Rc<RefCell<CallDraft>> = use_mut_ref(|| p.view.draft.clone());
    let tags_text = use_state(|| p.view.draft.tags.join(", "));
    let saved = use_state(|| true);
    let pending: Rc<RefCell<Option<Timeout>>> = use_mut_ref(|| None);

    // Every edit: show it at once, save it when the agent pauses.
    let edit = {
        let (draft, latest, saved, pending, on_error) = (
            draft.clone(),
            latest.clone(),
            saved.clone(),
            pending.clone(),
            p.on_error.clone(),
        );
        Callback::from(move |change: Box<dyn FnOnce(&mut CallDraft)>| {
            let next = {
                let mut d = latest.borrow_mut();
                change(&mut d);
                d.clone()
            };
            draft.set(next.clone());
            saved.set(false);
            let (saved, on_error) = (saved.clone(), on_error.clone());
            *pending.borrow_mut() = Some(Timeout::new(DRAFT_DEBOUNCE_MS, move || {
                spawn_local(async move {
                    match tauri::call("save_draft", &json!({ "draft": next })).await {
                        Ok(()) => saved.set(true),
                        Err(e) => on_error.emit(e),
                    }
                });
            }));
        })
    };
    let on_notes = {
        let edit = edit.clone();
        Callback::from(move |e: InputEvent| {
            let notes = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            edit.emit(Box::new(move |d: &mut CallDraft| d.notes = notes));
        })
    };
    let on_disposition = {
        let edit = edit.clone();
        Callback::from(move |e: Event| {
            let v = select_value(&e);
            edit.emit(Box::new(move |d: &mut CallDraft| {
                d.disposition = (!v.is_empty()).then_some(v)
            }));
        })
    };
    let on_follow_up = {
        let edit = edit.clone();
        Callback::from(move |e: InputEvent| {
            let v = input_value(&e);
            edit.emit(Box::new(move |d: &mut CallDraft| {
                d.follow_up = (!v.is_empty()).then_some(v)
            }));
        })
    };
    let on_tags = {
        let (edit, tags_text) = (edit.clone(), tags_text.clone());
        Callback::from(move |e: InputEvent| {
            let v = input_value(&e);
            tags_text.set(v.clone());
            edit.emit(Box::new(move |d: &mut CallDraft| {
                d.tags = view::parse_tags(&v)
            }));
        })
    };
    let onsubmit = {
        let (latest, pending, on_error) = (latest.clone(), pending.clone(), p.on_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            pending.borrow_mut().take();
            let draft = latest.borrow().clone();
            run("submit_draft", json!({ "draft": draft }), on_error.clone());
        })
    };
    let id = p.view.draft.call_log_id.clone();
    let (who, talk) = p
        .view
        .log
        .as_ref()
        .map(|l| {
            (
                l.contact_name.clone().unwrap_or_else(|| l.peer.clone()),
                l.talk_seconds,
            )
        })
        .unwrap_or_default();
    html! {
        <form class="wrap-up" onsubmit={onsubmit} data-call-log-id={id.clone()} aria-labelledby={format!("wrap-{id}")}>
            <div class="call-head">
                <span class="call-label" id={format!("wrap-{id}")}>{ t.after_call }</span>
                <span class="muted">{ format!("{who} · {} {}", view::timer(talk), t.talk_time.to_lowercase()) }</span>
            </div>
            <label for={format!("notes-{id}")}>{ t.notes }</label>
            <textarea id={format!("notes-{id}")} class="draft-notes" rows="4" value={draft.notes.clone()} oninput={on_notes}
                placeholder={t.notes_placeholder} />
            <div class="grid3">
                <div>
                    <label for={format!("disp-{id}")}>{ t.disposition }</label>
                    <select id={format!("disp-{id}")} class="draft-disposition" onchange={on_disposition}>
                        <option value="" selected={draft.disposition.is_none()}>{ t.choose }</option>
                        { for p.dispositions.iter().map(|d| html! {
                            <option value={d.code.clone()} selected={draft.disposition.as_deref() == Some(d.code.as_str())}>{ d.label.clone() }</option>
                        }) }
                    </select>
                </div>
                <div>
                    <label for={format!("follow-{id}")}>{ t.follow_up }</label>
                    <input id={format!("follow-{id}")} class="draft-follow-up" type="date" value={draft.follow_up.clone().unwrap_or_default()} oninput={on_follow_up} />
                </div>
                <div>
                    <label for={format!("tags-{id}")}>{ t.tags }</label>
                    <input id={format!("tags-{id}")} class="draft-tags" value={(*tags_text).clone()} oninput={on_tags} placeholder={t.tags_hint} />
                </div>
            </div>
            <div class="actions">
                <span class="save-state muted" aria-live="polite">{ if *saved { t.saved_here } else { t.saving } }</span>
                <button type="submit" class="accept" data-action="submit-draft">{ t.submit }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct DialerProps {
    t: Tx,
    redial: Option<String>,
    on_intent: Callback<Intent>,
}

#[function_component(Dialer)]
fn dialer(p: &DialerProps) -> Html {
    let t = p.t;
    let number = use_state(String::new);
    let input_ref = use_node_ref();
    let invalid = use_state(|| false);
    let dial = {
        let (on, invalid) = (p.on_intent.clone(), invalid.clone());
        Callback::from(
            move |n: String| match ringside_core::engine::clean_number(&n) {
                Ok(clean) => {
                    invalid.set(false);
                    on.emit(Intent::Dial { number: clean });
                }
                Err(_) => invalid.set(true),
            },
        )
    };
    let oninput = {
        let (number, invalid) = (number.clone(), invalid.clone());
        Callback::from(move |e: InputEvent| {
            number.set(input_value(&e));
            invalid.set(false);
        })
    };
    let onsubmit = {
        let (input_ref, dial) = (input_ref.clone(), dial.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let typed = field_value(&input_ref);
            if !typed.trim().is_empty() {
                dial.emit(typed);
            }
        })
    };
    html! {
        <form class="panel dialer" onsubmit={onsubmit}>
            <label for="dial-number">{ t.dial_title }</label>
            <div class="row">
                <input id="dial-number" ref={input_ref.clone()} type="tel" inputmode="tel" autocomplete="off" value={(*number).clone()} {oninput}
                    placeholder={t.dial_placeholder} aria-invalid={invalid.to_string()} aria-describedby="dial-error" aria-keyshortcuts="Alt+D" />
                <button id="dial-call" type="submit" class="accept">{ t.call }</button>
            </div>
            if *invalid {
                <p id="dial-error" class="form-error" role="alert">{ t.invalid_number }</p>
            }
            <div class="keypad" role="group" aria-label={t.keypad}>
                { for ["1","2","3","4","5","6","7","8","9","*","0","#"].iter().map(|d| {
                    let (number, input_ref) = (number.clone(), input_ref.clone());
                    let d = *d;
                    // Appends to what the field holds now, so quick taps never drop a digit.
                    html! { <button type="button" data-key={d} onclick={Callback::from(move |_| number.set(format!("{}{d}", field_value(&input_ref))))}>{ d }</button> }
                }) }
            </div>
            if let Some(last) = p.redial.clone() {
                <button type="button" id="redial" class="link" onclick={{ let dial = dial.clone(); let l = last.clone(); Callback::from(move |_| dial.emit(l.clone())) }}>
                    { format!("{} {last}", t.redial) }
                </button>
            }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct DemoProps {
    t: Tx,
    on_error: Callback<IpcError>,
}

#[function_component(DemoPanel)]
fn demo_panel(p: &DemoProps) -> Html {
    let number = use_state(|| "+15550100".to_string());
    let oninput = {
        let number = number.clone();
        Callback::from(move |e: InputEvent| number.set(input_value(&e)))
    };
    let onclick = {
        let (number, on_error) = (number.clone(), p.on_error.clone());
        Callback::from(move |_| {
            run(
                "simulate_incoming",
                json!({ "number": *number }),
                on_error.clone(),
            )
        })
    };
    html! {
        <div class="panel demo-panel">
            <label for="sim-number">{ p.t.demo_title }</label>
            <div class="row">
                <input id="sim-number" type="tel" value={(*number).clone()} {oninput} />
                <button id="sim-incoming" type="button" {onclick}>{ p.t.demo_ring }</button>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ListsProps {
    t: Tx,
    history: Vec<HistoryEntry>,
    contacts: Vec<ContactView>,
    on_intent: Callback<Intent>,
}

#[function_component(Lists)]
fn lists(p: &ListsProps) -> Html {
    let t = p.t;
    let tab = use_state(|| "history");
    let filter = use_state(|| HistoryFilter::All);
    let query = use_state(String::new);
    let call = |number: String| {
        let on = p.on_intent.clone();
        Callback::from(move |_| {
            on.emit(Intent::Dial {
                number: number.clone(),
            })
        })
    };
    let select_tab = |name: &'static str| {
        let tab = tab.clone();
        Callback::from(move |_| tab.set(name))
    };
    let q = query.to_lowercase();
    html! {
        <div class="panel lists">
            <div class="tabs" role="tablist">
                <button role="tab" id="tab-history" aria-selected={(*tab == "history").to_string()} onclick={select_tab("history")}>{ t.history }</button>
                <button role="tab" id="tab-contacts" aria-selected={(*tab == "contacts").to_string()} onclick={select_tab("contacts")}>{ t.contacts }</button>
            </div>
            <div class="row filters">
                <input id="list-search" type="search" aria-label={t.search} placeholder={t.search} value={(*query).clone()}
                    oninput={{ let q = query.clone(); Callback::from(move |e: InputEvent| q.set(input_value(&e))) }} />
                if *tab == "history" {
                    <select id="history-filter" aria-label={t.filter_all}
                        onchange={{ let f = filter.clone(); Callback::from(move |e: Event| f.set(HistoryFilter::parse(&select_value(&e)))) }}>
                        <option value="all">{ t.filter_all }</option>
                        <option value="missed">{ t.filter_missed }</option>
                        <option value="inbound">{ t.filter_inbound }</option>
                        <option value="outbound">{ t.filter_outbound }</option>
                    </select>
                }
            </div>
            if *tab == "history" {
                { {
                    let rows = view::filter_history(&p.history, *filter, &query);
                    if rows.is_empty() {
                        html! { <p class="muted">{ t.no_history }</p> }
                    } else {
                        html! { <ul role="tabpanel" aria-labelledby="tab-history">
                            { for rows.into_iter().take(100).map(|r| {
                                let c = &r.log;
                                let (badge, badge_class) = match (r.draft, r.synced) {
                                    (Some(DraftState::Editing), _) => (t.notes_open, "warn"),
                                    (Some(DraftState::Submitted), false) => (t.notes_waiting, "warn"),
                                    (_, true) => (t.synced, "ok"),
                                    (None, false) => (t.not_synced, "warn"),
                                };
                                html! {
                                    <li class={classes!("recent-call", c.status.as_str())} data-status={c.status.as_str()} data-direction={if c.direction == Direction::Inbound { "inbound" } else { "outbound" }}>
                                        <span class="dir" aria-label={if c.direction == Direction::Inbound { t.inbound } else { t.outbound }}>{ if c.direction == Direction::Inbound { "↙" } else { "↗" } }</span>
                                        <span class="who">{ c.contact_name.clone().unwrap_or_else(|| c.peer.clone()) }</span>
                                        <span class="status">{ view::status_label(t, c.status, c.direction, false) }</span>
                                        <span class="talk">{ view::timer(c.talk_seconds) }</span>
                                        <span class={classes!("badge", badge_class)}>{ badge }</span>
                                        <button class="link call-back" data-action="call-back" aria-label={format!("{} {}", t.call_back, c.peer)} onclick={call(c.peer.clone())}>{ t.call_back }</button>
                                    </li>
                                }
                            }) }
                        </ul> }
                    }
                } }
            } else {
                { {
                    let rows: Vec<&ContactView> = p.contacts.iter()
                        .filter(|c| q.is_empty() || c.name.to_lowercase().contains(&q) || c.phone.contains(&q))
                        .collect();
                    if rows.is_empty() {
                        html! { <p class="muted">{ t.no_contacts }</p> }
                    } else {
                        html! { <ul role="tabpanel" aria-labelledby="tab-contacts">
                            { for rows.into_iter().map(|c| html! {
                                <li class="contact-row">
                                    <span class="who">{ c.name.clone() }</span>
                                    <span class="muted">{ c.phone.clone() }</span>
                                    <button class="link" data-action="call-contact" aria-label={format!("{} {}", t.call, c.name)} onclick={call(c.phone.clone())}>{ t.call }</button>
                                </li>
                            }) }
                        </ul> }
                    }
                } }
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SettingsProps {
    t: Tx,
    snapshot: Snapshot,
    on_close: Callback<MouseEvent>,
    on_error: Callback<IpcError>,
}

#[function_component(Settings)]
fn settings(p: &SettingsProps) -> Html {
    let t = p.t;
    let prefs = p.snapshot.preferences;
    let s = &p.snapshot.settings;
    let location = use_state(|| s.webphone.clone());
    let set_prefs = {
        let on_error = p.on_error.clone();
        move |next: Preferences| {
            run(
                "set_preferences",
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
            let language = if select_value(&e) == "fr" {
                Language::Fr
            } else {
                Language::En
            };
            set(Preferences { language, ..prefs });
        })
    };
    let save_location = {
        let (location, on_error) = (location.clone(), p.on_error.clone());
        Callback::from(move |_| {
            run(
                "set_webphone_location",
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
                    <option value="en" selected={prefs.language == Language::En}>{ "English" }</option>
                    <option value="fr" selected={prefs.language == Language::Fr}>{ "Français" }</option>
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
