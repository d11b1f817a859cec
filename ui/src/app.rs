//! The components. State comes from the core's snapshot; intents go back as commands.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use ringside_core::ipc::SNAPSHOT_EVENT;
use ringside_core::{
    CallDraft, CallLog, CallStatus, Direction, Intent, IpcError, LiveCall, Snapshot,
};
use serde_json::json;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::tauri;
use crate::view;

/// Autosave delay after the agent's last keystroke.
const DRAFT_DEBOUNCE_MS: u32 = 300;

#[function_component(App)]
pub fn app() -> Html {
    let snapshot = use_state(|| None::<Snapshot>);
    let error = use_state(|| None::<IpcError>);

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

    let on_intent = {
        let error = error.clone();
        Callback::from(move |intent: Intent| {
            let error = error.clone();
            spawn_local(async move {
                if let Err(e) = tauri::call("intent", &json!({ "intent": intent })).await {
                    error.set(Some(e));
                }
            });
        })
    };
    let on_simulate = {
        let error = error.clone();
        Callback::from(move |number: String| {
            let error = error.clone();
            spawn_local(async move {
                if let Err(e) = tauri::call("simulate_incoming", &json!({ "number": number })).await
                {
                    error.set(Some(e));
                }
            });
        })
    };
    let dismiss = {
        let error = error.clone();
        Callback::from(move |_| error.set(None))
    };

    let Some(snap) = (*snapshot).clone() else {
        return html! { <main class="loading" aria-busy="true">{ "Starting Ringside…" }</main> };
    };
    let notice = (*error).clone().or_else(|| snap.notice.clone());

    html! {
        <div class="shell">
            <Header snapshot={snap.clone()} />
            if let Some(n) = notice {
                <div class="notice" role="alert" data-code={n.code.clone()}>
                    <span>{ n.message.clone() }</span>
                    <button class="link" onclick={dismiss}>{ "Dismiss" }</button>
                </div>
            }
            <main class="workspace">
                <section class="calls" aria-label="Calls">
                    if snap.engine.calls.is_empty() {
                        <div class="idle">
                            <p class="idle-title">{ "No call" }</p>
                            <p class="muted">{ "Incoming calls appear here." }</p>
                        </div>
                    }
                    { for snap.engine.calls.iter().map(|c| html! {
                        <CallCard key={c.log.call_id.clone()} call={c.clone()} on_intent={on_intent.clone()} />
                    }) }
                    { for snap.engine.wrap_up.iter().map(|log| {
                        let draft = snap.drafts.iter().find(|d| d.call_log_id == log.id).cloned();
                        html! { <WrapUp key={log.id.clone()} log={log.clone()} draft={draft} on_error={
                            let error = error.clone();
                            Callback::from(move |e: IpcError| error.set(Some(e)))
                        } /> }
                    }) }
                </section>
                <aside class="side">
                    <Dialer on_intent={on_intent.clone()} />
                    if snap.demo {
                        <DemoPanel on_simulate={on_simulate} />
                    }
                    <Recent calls={snap.engine.recent.clone()} />
                </aside>
            </main>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct HeaderProps {
    snapshot: Snapshot,
}

#[function_component(Header)]
fn header(p: &HeaderProps) -> Html {
    let e = &p.snapshot.engine;
    let (reg, reg_class) = view::registration_label(e.registration);
    let agent = e
        .agent
        .as_ref()
        .map(|a| format!("{} · ext. {}", a.name, a.extension))
        .unwrap_or_else(|| "Signing in…".into());
    let sync_class = if p.snapshot.sync.online { "ok" } else { "warn" };
    html! {
        <header class="top">
            <div class="brand">{ "Ringside" }</div>
            <div class="agent" id="agent-name">{ agent }</div>
            <div class="pills">
                <span class="pill" id="agent-status">{ view::agent_state_label(e.agent_status.as_ref().map(|s| s.state)) }</span>
                <span class={classes!("pill", reg_class)} id="registration" title={e.registration_reason.clone().unwrap_or_default()}>{ reg }</span>
                <span class={classes!("pill", sync_class)} id="sync-state">{ view::sync_label(p.snapshot.sync.online, p.snapshot.sync.pending) }</span>
                if p.snapshot.demo { <span class="pill demo">{ "Demo" }</span> }
            </div>
        </header>
    }
}

#[derive(Properties, PartialEq)]
struct CallCardProps {
    call: LiveCall,
    on_intent: Callback<Intent>,
}

#[function_component(CallCard)]
fn call_card(p: &CallCardProps) -> Html {
    let log = &p.call.log;
    let id = log.call_id.clone();
    let intent = |make: fn(String) -> Intent| {
        let on = p.on_intent.clone();
        let id = id.clone();
        Callback::from(move |_| on.emit(make(id.clone())))
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
    let name = log.contact_name.clone().filter(|n| *n != log.peer);
    html! {
        <article class={classes!("call-card", log.status.as_str())} data-status={log.status.as_str()} data-call-id={id.clone()} aria-live="polite">
            <div class="call-head">
                <span class="call-label">{ view::status_label(log.status, log.direction) }</span>
                if log.status == CallStatus::Talking {
                    <span class="talk-timer" aria-label="Talk time">{ view::timer(p.call.talk_seconds_now) }</span>
                }
            </div>
            <div class="peer">
                <span class="contact-name">{ name.clone().unwrap_or_else(|| log.peer.clone()) }</span>
                if name.is_some() { <span class="peer-number">{ log.peer.clone() }</span> }
            </div>
            if let Some(q) = &log.queue {
                <div class="queue">{ format!("Queue {} · {}", q.queue_number, q.queue_name) }</div>
            }
            <div class="actions">
                { match (log.status, log.direction) {
                    (CallStatus::Ringing, Direction::Inbound) => html! { <>
                        <button class="accept" data-action="accept" onclick={intent(|call_id| Intent::Accept { call_id })}>{ "Accept" }</button>
                        <button class="reject" data-action="reject" onclick={intent(|call_id| Intent::Reject { call_id })}>{ "Reject" }</button>
                    </> },
                    (CallStatus::Ringing, Direction::Outbound) => html! {
                        <button class="reject" data-action="hangup" onclick={intent(|call_id| Intent::Hangup { call_id })}>{ "Cancel" }</button>
                    },
                    _ => html! { <>
                        <button data-action="hold" aria-pressed={log.on_hold.to_string()} onclick={hold}>{ if log.on_hold { "Resume" } else { "Hold" } }</button>
                        <button data-action="mute" aria-pressed={log.muted.to_string()} onclick={mute}>{ if log.muted { "Unmute" } else { "Mute" } }</button>
                        <button class="reject" data-action="hangup" onclick={intent(|call_id| Intent::Hangup { call_id })}>{ "Hang up" }</button>
                    </> },
                } }
            </div>
        </article>
    }
}

#[derive(Properties, PartialEq)]
struct WrapUpProps {
    log: CallLog,
    draft: Option<CallDraft>,
    on_error: Callback<IpcError>,
}

#[function_component(WrapUp)]
fn wrap_up(p: &WrapUpProps) -> Html {
    let initial = p
        .draft
        .as_ref()
        .map(|d| d.notes.clone())
        .unwrap_or_default();
    let notes = use_state(move || initial);
    let saved = use_state(|| true);
    let pending: Rc<RefCell<Option<Timeout>>> = use_mut_ref(|| None);
    let make_draft = {
        let log_id = p.log.id.clone();
        let base = p.draft.clone();
        move |text: String| CallDraft {
            call_log_id: log_id.clone(),
            notes: text,
            ..base.clone().unwrap_or_default()
        }
    };
    let oninput = {
        let notes = notes.clone();
        let saved = saved.clone();
        let pending = pending.clone();
        let on_error = p.on_error.clone();
        let make_draft = make_draft.clone();
        Callback::from(move |e: InputEvent| {
            let text = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            notes.set(text.clone());
            saved.set(false);
            let draft = make_draft(text);
            let on_error = on_error.clone();
            let saved = saved.clone();
            // Replacing the timer cancels the previous save: one write per pause in typing.
            *pending.borrow_mut() = Some(Timeout::new(DRAFT_DEBOUNCE_MS, move || {
                spawn_local(async move {
                    match tauri::call("save_draft", &json!({ "draft": draft })).await {
                        Ok(()) => saved.set(true),
                        Err(e) => on_error.emit(e),
                    }
                });
            }));
        })
    };
    let onsubmit = {
        let notes = notes.clone();
        let pending = pending.clone();
        let on_error = p.on_error.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            pending.borrow_mut().take();
            let draft = make_draft((*notes).clone());
            let on_error = on_error.clone();
            spawn_local(async move {
                if let Err(e) = tauri::call("submit_draft", &json!({ "draft": draft })).await {
                    on_error.emit(e);
                }
            });
        })
    };
    let who = p
        .log
        .contact_name
        .clone()
        .unwrap_or_else(|| p.log.peer.clone());
    html! {
        <form class="wrap-up" onsubmit={onsubmit} data-call-log-id={p.log.id.clone()}>
            <div class="call-head">
                <span class="call-label">{ "After-call work" }</span>
                <span class="muted">{ format!("{} · {} talked", who, view::timer(p.log.talk_seconds)) }</span>
            </div>
            <label for={format!("notes-{}", p.log.id)}>{ "Notes" }</label>
            <textarea id={format!("notes-{}", p.log.id)} class="draft-notes" rows="5" value={(*notes).clone()} {oninput}
                placeholder="What was the call about? What happens next?" />
            <div class="actions">
                <span class="save-state muted" aria-live="polite">{ if *saved { "Saved on this computer" } else { "Saving…" } }</span>
                <button type="submit" class="accept" data-action="submit-draft">{ "Submit" }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct DialerProps {
    on_intent: Callback<Intent>,
}

#[function_component(Dialer)]
fn dialer(p: &DialerProps) -> Html {
    let number = use_state(String::new);
    let oninput = {
        let number = number.clone();
        Callback::from(move |e: InputEvent| {
            number.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onsubmit = {
        let number = number.clone();
        let on = p.on_intent.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !number.trim().is_empty() {
                on.emit(Intent::Dial {
                    number: (*number).clone(),
                });
            }
        })
    };
    html! {
        <form class="panel dialer" onsubmit={onsubmit}>
            <label for="dial-number">{ "Call a number" }</label>
            <div class="row">
                <input id="dial-number" type="tel" inputmode="tel" autocomplete="off" value={(*number).clone()} {oninput} placeholder="+44 20 7946 0018" />
                <button type="submit" class="accept">{ "Call" }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct DemoProps {
    on_simulate: Callback<String>,
}

#[function_component(DemoPanel)]
fn demo_panel(p: &DemoProps) -> Html {
    let number = use_state(|| "+15550100".to_string());
    let oninput = {
        let number = number.clone();
        Callback::from(move |e: InputEvent| {
            number.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onclick = {
        let number = number.clone();
        let on = p.on_simulate.clone();
        Callback::from(move |_| on.emit((*number).clone()))
    };
    html! {
        <div class="panel demo-panel">
            <label for="sim-number">{ "Demo: a customer calls from" }</label>
            <div class="row">
                <input id="sim-number" type="tel" value={(*number).clone()} {oninput} />
                <button id="sim-incoming" type="button" {onclick}>{ "Simulate incoming call" }</button>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct RecentProps {
    calls: Vec<CallLog>,
}

#[function_component(Recent)]
fn recent(p: &RecentProps) -> Html {
    html! {
        <div class="panel recent">
            <h2>{ "Recent calls" }</h2>
            if p.calls.is_empty() {
                <p class="muted">{ "None yet today." }</p>
            }
            <ul>
                { for p.calls.iter().take(20).map(|c| html! {
                    <li class={classes!("recent-call", c.status.as_str())} data-status={c.status.as_str()}>
                        <span class="dir">{ if c.direction == Direction::Inbound { "↙" } else { "↗" } }</span>
                        <span class="who">{ c.contact_name.clone().unwrap_or_else(|| c.peer.clone()) }</span>
                        <span class="status">{ view::status_label(c.status, c.direction) }</span>
                        <span class="talk">{ view::timer(c.talk_seconds) }</span>
                    </li>
                }) }
            </ul>
        </div>
    }
}
