//! One call on screen: its state, its controls (answer, hold, mute, keypad, transfers) and a
//! PBX transfer under way.

use ringside_core::ipc::cmd;
use ringside_core::{
    CallStatus, Direction, Intent, IpcError, LiveCall, PbxTransfer, PbxTransferState, TalkingTo,
};
use serde_json::json;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::{field_value, input_value, run, Tx, KEYPAD};
use crate::view;

#[derive(Properties, PartialEq)]
pub struct CallCardProps {
    pub t: Tx,
    pub call: LiveCall,
    pub waiting: bool,
    /// A consultation for this call is under way (attended transfer).
    pub consulting: bool,
    pub demo: bool,
    pub on_intent: Callback<Intent>,
    pub on_error: Callback<IpcError>,
}

#[function_component(CallCard)]
pub fn call_card(p: &CallCardProps) -> Html {
    let t = p.t;
    let log = &p.call.log;
    let id = log.call_id.clone();
    let keypad = use_state(|| false);
    let pbx = p.call.pbx_transfer.clone();
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
    // Tones sent on this call, shown so the agent sees what the far end received. Held in a
    // cell as well as the state: keys pressed faster than renders all count.
    let sent = use_state(String::new);
    let sent_now: std::rc::Rc<std::cell::RefCell<String>> = use_mut_ref(String::new);
    let send_digit = {
        let (on, id, sent, sent_now) = (
            p.on_intent.clone(),
            id.clone(),
            sent.clone(),
            sent_now.clone(),
        );
        Callback::from(move |digit: String| {
            sent_now.borrow_mut().push_str(&digit);
            sent.set(sent_now.borrow().clone());
            on.emit(Intent::Dtmf {
                call_id: id.clone(),
                digits: digit,
            });
        })
    };
    // During a call the digit keys send tones, as on a desk phone, unless the agent is typing
    // in a field (notes, a transfer number).
    {
        let active = log.status == CallStatus::Talking && !log.on_hold && pbx.is_none();
        let send = send_digit.clone();
        use_effect_with(active, move |active| {
            let listener = active.then(|| {
                let cb = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
                    move |e: web_sys::KeyboardEvent| {
                        if e.alt_key() || e.ctrl_key() || e.meta_key() || e.default_prevented() {
                            return;
                        }
                        let key = e.key();
                        if !view::is_dtmf_key(&key) || view::typing_in_a_field() {
                            return;
                        }
                        e.prevent_default();
                        send.emit(key);
                    },
                );
                if let Some(w) = web_sys::window() {
                    let _ =
                        w.add_event_listener_with_callback("keydown", cb.as_ref().unchecked_ref());
                }
                cb
            });
            move || {
                if let (Some(cb), Some(w)) = (listener, web_sys::window()) {
                    let _ = w.remove_event_listener_with_callback(
                        "keydown",
                        cb.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
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
    let remote_hangup = {
        let on_error = p.on_error.clone();
        let id = id.clone();
        Callback::from(move |_| {
            run(
                cmd::SIMULATE,
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
                if let Some(held) = p.call.hold_seconds_now {
                    <span class="hold-timer" role="timer" aria-label={t.on_hold_for}>{ format!("{} {}", t.on_hold_for, view::timer(held)) }</span>
                }
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
                        <button class="reject" data-action="consult-cancel" onclick={intent(|call_id| Intent::ConsultCancel { call_id })}>
                            { view::cancel_consult_label(t, log.on_hold, &log.peer) }
                        </button>
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
                    { for KEYPAD.iter().map(|d| {
                        let send = send_digit.clone();
                        let digit = d.to_string();
                        html! { <button data-dtmf={*d} onclick={Callback::from(move |_| send.emit(digit.clone()))}>{ *d }</button> }
                    }) }
                </div>
            }
            if !sent.is_empty() && log.status == CallStatus::Talking {
                <div class="dtmf-sent muted" aria-live="polite">{ format!("{} {}", t.tones_sent, *sent) }</div>
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
        <button class="reject" data-action="consult-cancel" onclick={intent(|call_id| Intent::ConsultCancel { call_id })}>
            { view::cancel_consult_label(t, pt.talking_to == Some(TalkingTo::Caller), &pt.number) }
        </button>
    </> }
}

#[derive(Properties, PartialEq)]
pub struct RingtoneProps {
    pub ringing: bool,
    /// 0 to 100.
    pub volume: u8,
}

/// What the ringtone holds between renders: the audio graph, made at the first ring.
#[derive(Default)]
struct Ring {
    ctx: Option<web_sys::AudioContext>,
    gain: Option<web_sys::GainNode>,
    buffer: Option<web_sys::AudioBuffer>,
    source: Option<web_sys::AudioBufferSourceNode>,
    /// Whether it should be sounding now (a decode finishing late checks it).
    wanted: bool,
    loading: bool,
}

/// The shipped ringtone (`ring.wav`, 400+450 Hz, the UK cadence), looped while an inbound call
/// rings, through Web Audio: WebKitGTK's `<audio>` cannot load from the app's custom scheme
/// (`MEDIA_ERR_SRC_NOT_SUPPORTED`, measured), while a fetched and decoded buffer plays.
/// `#ringtone[data-playing]` says what happened: `true`, `false`, `loading`, or `refused: …`
/// when this system cannot play sound (the notification and the urgency hint remain).
#[function_component(Ringtone)]
pub fn ringtone(p: &RingtoneProps) -> Html {
    let marker = use_node_ref();
    let ring = use_mut_ref(Ring::default);
    {
        let (marker, ring) = (marker.clone(), ring.clone());
        use_effect_with((p.ringing, p.volume), move |(ringing, volume)| {
            let wanted = *ringing && *volume > 0;
            ring.borrow_mut().wanted = wanted;
            if let Some(g) = &ring.borrow().gain {
                g.gain().set_value(f32::from(*volume) / 100.0);
            }
            if wanted {
                start_ring(&ring, &marker, *volume);
            } else {
                stop_ring(&ring, &marker);
            }
            || ()
        });
    }
    html! { <span id="ringtone" ref={marker} hidden=true data-playing="false" /> }
}

fn say(marker: &NodeRef, state: &str) {
    if let Some(el) = marker.cast::<web_sys::Element>() {
        let _ = el.set_attribute("data-playing", state);
    }
}

fn js_error(e: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

fn start_ring(ring: &std::rc::Rc<std::cell::RefCell<Ring>>, marker: &NodeRef, volume: u8) {
    let mut r = ring.borrow_mut();
    if r.source.is_some() || r.loading {
        return;
    }
    if r.ctx.is_none() {
        let made = web_sys::AudioContext::new().and_then(|ctx| {
            let gain = ctx.create_gain()?;
            gain.connect_with_audio_node(&ctx.destination())?;
            Ok((ctx, gain))
        });
        match made {
            Ok((ctx, gain)) => {
                gain.gain().set_value(f32::from(volume) / 100.0);
                r.ctx = Some(ctx);
                r.gain = Some(gain);
            }
            Err(e) => {
                say(marker, &format!("refused: {}", js_error(&e)));
                return;
            }
        }
    }
    if r.buffer.is_none() {
        r.loading = true;
        say(marker, "loading");
        let (ring, marker) = (ring.clone(), marker.clone());
        let Some(ctx) = r.ctx.clone() else { return };
        wasm_bindgen_futures::spawn_local(async move {
            let decoded = load(&ctx).await;
            let mut r = ring.borrow_mut();
            r.loading = false;
            match decoded {
                Ok(buffer) => r.buffer = Some(buffer),
                Err(e) => {
                    say(&marker, &format!("refused: {e}"));
                    return;
                }
            }
            let wanted = r.wanted;
            drop(r);
            if wanted {
                start_ring(&ring, &marker, volume);
            } else {
                say(&marker, "false");
            }
        });
        return;
    }
    let (Some(ctx), Some(gain), Some(buffer)) = (&r.ctx, &r.gain, &r.buffer) else {
        return;
    };
    let started = ctx.create_buffer_source().and_then(|src| {
        src.set_buffer(Some(buffer));
        src.set_loop(true);
        src.connect_with_audio_node(gain)?;
        src.start()?;
        Ok(src)
    });
    match started {
        Ok(src) => {
            // A context made before any click may start suspended.
            let _ = ctx.resume();
            r.source = Some(src);
            say(marker, "true");
        }
        Err(e) => say(marker, &format!("refused: {}", js_error(&e))),
    }
}

fn stop_ring(ring: &std::rc::Rc<std::cell::RefCell<Ring>>, marker: &NodeRef) {
    if let Some(src) = ring.borrow_mut().source.take() {
        #[allow(deprecated)]
        let _ = src.stop();
    }
    say(marker, "false");
}

/// `ring.wav`, fetched from the app and decoded.
async fn load(ctx: &web_sys::AudioContext) -> Result<web_sys::AudioBuffer, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str("ring.wav"))
        .await
        .map_err(|e| js_error(&e))?
        .dyn_into::<web_sys::Response>()
        .map_err(|e| js_error(&e))?;
    let bytes = JsFuture::from(response.array_buffer().map_err(|e| js_error(&e))?)
        .await
        .map_err(|e| js_error(&e))?
        .dyn_into::<js_sys::ArrayBuffer>()
        .map_err(|e| js_error(&e))?;
    JsFuture::from(ctx.decode_audio_data(&bytes).map_err(|e| js_error(&e))?)
        .await
        .map_err(|e| js_error(&e))?
        .dyn_into::<web_sys::AudioBuffer>()
        .map_err(|e| js_error(&e))
}
