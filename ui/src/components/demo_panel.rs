//! Demo mode's stand-in for a customer calling: rings the simulated webphone.

use ringside_core::ipc::cmd;
use ringside_core::IpcError;
use serde_json::json;
use yew::prelude::*;

use super::{input_value, run, Tx};

#[derive(Properties, PartialEq)]
pub struct DemoProps {
    pub t: Tx,
    pub on_error: Callback<IpcError>,
}

#[function_component(DemoPanel)]
pub fn demo_panel(p: &DemoProps) -> Html {
    let number = use_state(|| "+15550100".to_string());
    let oninput = {
        let number = number.clone();
        Callback::from(move |e: InputEvent| number.set(input_value(&e)))
    };
    let onclick = {
        let (number, on_error) = (number.clone(), p.on_error.clone());
        Callback::from(move |_| {
            run(
                cmd::SIMULATE_INCOMING,
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
