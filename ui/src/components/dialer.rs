//! The dial pad: a number field, a keypad and redial.

use ringside_core::Intent;
use yew::prelude::*;

use super::{field_value, input_value, Tx, KEYPAD};

#[derive(Properties, PartialEq)]
pub struct DialerProps {
    pub t: Tx,
    /// The number of the most recent outbound call.
    pub redial: Option<String>,
    pub on_intent: Callback<Intent>,
}

#[function_component(Dialer)]
pub fn dialer(p: &DialerProps) -> Html {
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
