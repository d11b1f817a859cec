//! The dial pad: a number field, a keypad and redial.

use ringside_core::ipc::cmd;
use ringside_core::{DialOffer, Intent, IpcError, OfferAction};
use serde_json::json;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::{field_value, input_value, run, use_focus, Tx, KEYPAD};
use crate::{tauri, view};

#[derive(Properties, PartialEq)]
pub struct DialerProps {
    pub t: Tx,
    /// The number of the most recent outbound call.
    pub redial: Option<String>,
    pub on_error: Callback<IpcError>,
}

#[function_component(Dialer)]
pub fn dialer(p: &DialerProps) -> Html {
    let t = p.t;
    let number = use_state(String::new);
    let input_ref = use_node_ref();
    // What the core said about the number, as the agent's language words it.
    let invalid = use_state(|| None::<&'static str>);
    let dial = {
        let (invalid, on_error) = (invalid.clone(), p.on_error.clone());
        Callback::from(move |n: String| {
            // The core reads the number (libphonenumber, the region IT set): one set of rules
            // for the dial pad, redial, contacts and transfers.
            let (invalid, on_error) = (invalid.clone(), on_error.clone());
            spawn_local(async move {
                let intent = Intent::Dial { number: n };
                match tauri::call(cmd::INTENT, &json!({ "intent": intent })).await {
                    Ok(()) => invalid.set(None),
                    Err(e) => match view::number_problem(t, &e.code) {
                        Some(text) => invalid.set(Some(text)),
                        None => on_error.emit(e),
                    },
                }
            });
        })
    };
    let oninput = {
        let (number, invalid) = (number.clone(), invalid.clone());
        Callback::from(move |e: InputEvent| {
            number.set(input_value(&e));
            invalid.set(None);
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
                    placeholder={t.dial_placeholder} aria-invalid={invalid.is_some().to_string()} aria-describedby="dial-error" aria-keyshortcuts="Alt+D" />
                <button id="dial-call" type="submit" class="accept">{ t.call }</button>
            </div>
            if let Some(problem) = *invalid {
                <p id="dial-error" class="form-error" role="alert">{ problem }</p>
            }
            <div class="keypad" role="group" aria-label={t.keypad}>
                { for KEYPAD.iter().map(|d| {
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
pub struct OfferProps {
    pub t: Tx,
    pub offer: DialOffer,
    /// A call is up: the offer holds it, or waits for it.
    pub busy: bool,
    pub on_error: Callback<IpcError>,
}

/// A number a link (or `ringside dial`) asked to call. Its main button takes the focus, so
/// Enter calls: one key, as the `confirm` policy promises.
#[function_component(OfferPanel)]
pub fn offer_panel(p: &OfferProps) -> Html {
    let t = p.t;
    let call_ref = use_node_ref();
    use_focus(call_ref.clone(), (p.offer.clone(), p.busy));
    let act = |action: OfferAction| {
        let on_error = p.on_error.clone();
        Callback::from(move |_: MouseEvent| {
            run(
                cmd::DIAL_OFFER,
                json!({ "action": action }),
                on_error.clone(),
            )
        })
    };
    let number = p.offer.number.clone();
    html! {
        <section id="dial-offer" class="panel offer" role="alertdialog" aria-labelledby="dial-offer-title" data-after-call={p.offer.after_call.to_string()}>
            if p.offer.after_call && p.busy {
                <p id="dial-offer-title" class="offer-title">{ t.offer_next.replace("{n}", &number) }</p>
                <div class="row">
                    <button id="offer-dismiss" ref={call_ref} onclick={act(OfferAction::Dismiss)}>{ t.dismiss }</button>
                </div>
            } else {
                <p id="dial-offer-title" class="offer-title">{ t.offer_title.replace("{n}", &number) }</p>
                <div class="row">
                    <button id="offer-call" class="accept" ref={call_ref} onclick={act(OfferAction::Call)}>
                        { if p.busy { t.offer_hold_and_call } else { t.call } }
                    </button>
                    if p.busy {
                        <button id="offer-after" onclick={act(OfferAction::AfterCall)}>{ t.offer_after }</button>
                    }
                    <button id="offer-dismiss" class="link" onclick={act(OfferAction::Dismiss)}>{ t.dismiss }</button>
                </div>
            }
        </section>
    }
}
