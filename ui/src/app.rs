//! The root component: it subscribes to the core's deltas, holds the snapshot they build,
//! lays out the screen and handles the in-window keyboard shortcuts. The components it lays
//! out are in [`crate::components`].

use std::cell::RefCell;
use std::rc::Rc;

use ringside_core::ipc::{cmd, SnapshotDelta};
use ringside_core::phone::RegState;
use ringside_core::{
    CallStatus, Direction, EngineView, Intent, IpcError, SessionState, UpdateState,
};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::components::{
    run, CallCard, DemoPanel, Dialer, Drafts, Header, Lists, OfferPanel, QuitPrompt, Ringtone,
    Settings, SignIn, Tx,
};
use crate::i18n::texts;
use crate::state::Held;
use crate::tauri;
use crate::view::{self, Shortcut};

/// How many core → screen lags `window.ringsideLag` keeps (40 KB of numbers at most).
const LAG_SAMPLES: u32 = 5000;
/// How long a submit's confirmation stays on screen.
const CONFIRMATION_MS: u32 = 5000;
/// One ring of the shipped cadence (0.4 s on, 0.2 s off, 0.4 s on, 2 s off) and a little.
const RING_TEST_MS: u32 = 3200;

/// `state` is `on` for `ms`, then `off`; a second call starts the wait again.
fn for_a_while<V: 'static>(
    state: &UseStateSetter<V>,
    timer: &Rc<RefCell<Option<gloo_timers::callback::Timeout>>>,
    ms: u32,
    on: V,
    off: V,
) {
    state.set(on);
    let state = state.clone();
    *timer.borrow_mut() = Some(gloo_timers::callback::Timeout::new(ms, move || {
        state.set(off)
    }));
}

#[function_component(App)]
pub fn app() -> Html {
    let held = use_reducer(Held::default);
    let error = use_state(|| None::<IpcError>);
    let settings_open = use_state(|| false);
    // "Notes for … submitted", shown for a few seconds after a submit the core took.
    let confirmation = use_state(|| None::<String>);
    let confirm_timer: Rc<RefCell<Option<gloo_timers::callback::Timeout>>> = use_mut_ref(|| None);
    // The engine as last rendered, for the keyboard listener registered once at start-up.
    let latest_engine: Rc<RefCell<Option<Rc<EngineView>>>> = use_mut_ref(|| None);
    *latest_engine.borrow_mut() = held.parts.as_ref().map(|s| s.engine.clone());
    // When the core built each delta received and not yet on screen (see the lag effect).
    let unrendered: Rc<RefCell<Vec<i64>>> = use_mut_ref(Vec::new);

    // Built once (their dependencies never change) so that the components they are handed to
    // compare equal and skip re-rendering when their own parts did not change.
    let on_error = use_callback(error.setter(), |e: IpcError, error| error.set(Some(e)));
    let on_intent = use_callback(on_error.clone(), |intent: Intent, on_error| {
        run(cmd::INTENT, json!({ "intent": intent }), on_error.clone());
    });
    let on_submitted = {
        let confirm_timer = confirm_timer.clone();
        use_callback(confirmation.setter(), move |who: String, confirmation| {
            for_a_while(
                confirmation,
                &confirm_timer,
                CONFIRMATION_MS,
                Some(who),
                None,
            );
        })
    };
    // Settings' "Test": the ringtone sounds for one ring at the chosen volume, so an agent
    // can set it before the first call rather than during it.
    let ring_test = use_state(|| false);
    let ring_test_timer: Rc<RefCell<Option<gloo_timers::callback::Timeout>>> = use_mut_ref(|| None);
    let on_ring_test = use_callback(ring_test.setter(), move |_: MouseEvent, ring_test| {
        for_a_while(ring_test, &ring_test_timer, RING_TEST_MS, true, false);
    });
    let open_settings = use_callback(settings_open.setter(), |_: MouseEvent, open| open.set(true));
    let close_settings = use_callback(settings_open.setter(), |_: MouseEvent, open| {
        open.set(false)
    });

    // The core sends every part once, then only what changed, for the page's lifetime.
    {
        let (held, on_error, unrendered) =
            (held.dispatcher(), on_error.clone(), unrendered.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                let on_message = {
                    let on_error = on_error.clone();
                    move |msg: Result<SnapshotDelta, IpcError>| match msg {
                        Ok(delta) => {
                            unrendered.borrow_mut().push(delta.built_at_ms);
                            held.dispatch(delta);
                        }
                        Err(e) => on_error.emit(e),
                    }
                };
                // Before the first delta this is the start-up error (a damaged profile, ...).
                if let Err(e) = tauri::subscribe(cmd::SUBSCRIBE, "updates", on_message).await {
                    on_error.emit(e);
                }
            });
            || ()
        });
    }

    // In-window shortcuts: Alt+A/R/H/M/O act on the calls on screen, Alt+D goes to dialling.
    {
        let latest_engine = latest_engine.clone();
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
                    let intent = latest_engine
                        .borrow()
                        .as_ref()
                        .and_then(|engine| shortcut.intent(&engine.calls));
                    if let Some(intent) = intent {
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

    // Core → screen lag of every delta received, measured once the render it caused is done,
    // kept (last 1,000) in `window.ringsideLag` for measurement runs; the figures are read by
    // the end-to-end test, not asserted. Runs after every render: deltas that arrived together
    // are rendered together, and each still counts once.
    //
    // Two launch stamps (Unix ms) for the bench: `window.ringsideFirstRender` after the first
    // render of the core's state, `window.ringsideInteractive` after the first that shows the
    // phone registered.
    {
        let unrendered = unrendered.clone();
        let shown = held.parts.is_some();
        let registered =
            held.parts.as_ref().map(|s| s.engine.registration) == Some(Some(RegState::Registered));
        use_effect(move || {
            if let Some(w) = web_sys::window() {
                for (name, reached) in [
                    ("ringsideFirstRender", shown),
                    ("ringsideInteractive", registered),
                ] {
                    let key = wasm_bindgen::JsValue::from_str(name);
                    if reached && js_sys::Reflect::get(&w, &key).is_ok_and(|v| v.is_undefined()) {
                        let at = wasm_bindgen::JsValue::from_f64(js_sys::Date::now());
                        let _ = js_sys::Reflect::set(&w, &key, &at);
                    }
                }
            }
            let built: Vec<i64> = std::mem::take(&mut *unrendered.borrow_mut());
            if let (false, Some(w)) = (built.is_empty(), web_sys::window()) {
                let now = js_sys::Date::now();
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
                for b in built {
                    arr.push(&wasm_bindgen::JsValue::from_f64(now - b as f64));
                }
                while arr.length() > LAG_SAMPLES {
                    arr.shift();
                }
            }
            || ()
        });
    }

    // Theme and language live on <html>, where CSS and screen readers look for them.
    {
        let prefs = held.parts.as_ref().map(|s| s.preferences);
        use_effect_with(prefs, move |prefs| {
            if let (Some(p), Some(root)) = (
                prefs,
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.document_element()),
            ) {
                let _ = root.set_attribute("data-theme", p.theme.as_str());
                let _ = root.set_attribute("lang", p.language.as_str());
            }
            || ()
        });
    }

    let Some(s) = &held.parts else {
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
    let t: Tx = texts(s.preferences.language);

    let update = s.settings.update.as_ref().map(|u| {
        let bad = matches!(u.state, UpdateState::Refused | UpdateState::Failed);
        html! {
            <div class={classes!("notice", "update", bad.then_some("bad"))} role={if bad { "alert" } else { "status" }}
                data-code="update" data-state={format!("{:?}", u.state)} data-version={u.version.clone().unwrap_or_default()}>
                <span>{ view::update_text(t, u) }</span>
                if let Some(d) = &u.detail {
                    <span class="detail">{ format!(" ({d})") }</span>
                }
            </div>
        }
    });
    if s.session.state != SessionState::SignedIn {
        return html! { <>{ update }<SignIn t={t} session={s.session.clone()} /></> };
    }

    let notice = (*error).clone().or_else(|| s.notice.clone());
    let dismiss = {
        let error = error.clone();
        let on_error = on_error.clone();
        Callback::from(move |_| {
            error.set(None);
            run(cmd::DISMISS_NOTICE, json!({}), on_error.clone());
        })
    };
    let engine = &s.engine;
    let reg_failed = engine.registration == Some(RegState::Failed);
    let any_talking = engine
        .calls
        .iter()
        .any(|c| c.log.status == CallStatus::Talking);

    let ringing = engine
        .calls
        .iter()
        .any(|c| c.log.status == CallStatus::Ringing && c.log.direction == Direction::Inbound);

    html! {
        <div class="shell">
            <Ringtone ringing={(ringing || *ring_test) && s.settings.ringtone} volume={s.preferences.ring_volume} />
            <Header t={t} engine={engine.clone()} sync={s.sync.clone()} pause_reasons={s.pause_reasons.clone()} language={s.preferences.language}
                demo={s.demo} insecure={s.session.insecure} webrtc_missing={s.webrtc_missing} on_error={on_error.clone()} on_settings={open_settings} />
            <div class="banners" aria-live="polite">
                { update }
                if let Some(who) = (*confirmation).clone() {
                    <div class="notice ok" role="status" data-code="draft_submitted">{ t.draft_submitted.replace("{who}", &who) }</div>
                }
                if let Some(n) = notice {
                    <div class="notice" role="alert" data-code={n.code.clone()}>
                        <span>{ view::notice_text(t, &n) }</span>
                        <button class="link" onclick={dismiss}>{ t.dismiss }</button>
                    </div>
                }
                if !s.sync.online {
                    <div class="notice offline" role="status" data-code="backend_unreachable">{ t.offline_banner }</div>
                }
                if reg_failed {
                    <div class="notice bad" role="alert" data-code="registration_failed">
                        { format!("{}: {}", t.registration_failed, engine.registration_reason.clone().unwrap_or_default()) }
                    </div>
                }
                if let (Some(secs), false) = (engine.registration_stalled_s, reg_failed) {
                    <div class="notice bad" role="alert" data-code="registration_stalled">
                        <span>{ t.registration_stalled
                            .replace("{s}", &secs.to_string())
                            .replace("{status}", engine.phone_status.as_deref().unwrap_or("—")) }</span>
                        if let Some(d) = &engine.phone_display {
                            <span class="display-text">{ format!(" {} : {}", t.webphone_says, d.trim_matches(|c: char| c == ',' || c.is_whitespace())) }</span>
                        }
                    </div>
                }
            </div>
            <main class="workspace">
                <section class="calls" aria-label={t.talking}>
                    if engine.calls.is_empty() && s.drafts.is_empty() {
                        <div class="idle">
                            <p class="idle-title">{ t.no_call }</p>
                            <p class="muted">{ t.no_call_hint }</p>
                        </div>
                    }
                    { for engine.calls.iter().map(|c| {
                        let waiting = any_talking && c.log.status == CallStatus::Ringing && c.log.direction == Direction::Inbound;
                        let consulting = engine.calls.iter().any(|o| o.log.consult_for.as_deref() == Some(c.log.call_id.as_str()));
                        html! {
                            <CallCard key={c.log.call_id.clone()} t={t} call={c.clone()} waiting={waiting} consulting={consulting}
                                demo={s.demo} on_intent={on_intent.clone()} on_error={on_error.clone()} />
                        }
                    }) }
                    <Drafts t={t} drafts={s.drafts.clone()} dispositions={s.dispositions.clone()} language={s.preferences.language}
                        on_error={on_error.clone()} on_submitted={on_submitted} />
                </section>
                <aside class="side">
                    if let Some(offer) = &s.dial_offer {
                        <OfferPanel t={t} offer={offer.clone()} busy={!engine.calls.is_empty()} on_error={on_error.clone()} />
                    }
                    <Dialer t={t} redial={view::last_dialled(&s.history)} on_error={on_error.clone()} />
                    if s.demo {
                        <DemoPanel t={t} on_error={on_error.clone()} />
                    }
                    <Lists t={t} history={s.history.clone()} contacts={s.contacts.clone()} dispositions={s.dispositions.clone()}
                        language={s.preferences.language} on_intent={on_intent.clone()} />
                </aside>
            </main>
            if let Some(warning) = &s.quit_prompt {
                <QuitPrompt t={t} warning={warning.clone()} on_error={on_error.clone()} />
            }
            if *settings_open {
                <Settings t={t} preferences={s.preferences} settings={s.settings.clone()} on_close={close_settings} on_error={on_error.clone()} on_ring_test={on_ring_test} ring_testing={*ring_test} />
            }
        </div>
    }
}
