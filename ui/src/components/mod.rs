//! The components under the root [`crate::app::App`], one per file, and the few helpers
//! they all use.
//!
//! Props carry the snapshot's parts as the [`crate::state`] `Rc`s and the App's callbacks,
//! which it builds once: a component whose parts did not change compares equal and is not
//! re-rendered.

mod call_card;
mod demo_panel;
mod dialer;
mod draft_form;
mod drafts;
mod header;
mod lists;
mod settings;
mod sign_in;

pub use call_card::{CallCard, Ringtone};
pub use demo_panel::DemoPanel;
pub use dialer::{Dialer, OfferPanel};
pub use drafts::Drafts;
pub use header::Header;
pub use lists::Lists;
pub use settings::{QuitPrompt, Settings};
pub use sign_in::SignIn;

use ringside_core::IpcError;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::i18n::Texts;
use crate::tauri;

/// The texts of the agent's language.
pub type Tx = &'static Texts;

/// The keys of a phone keypad, in the order they are laid out.
pub const KEYPAD: [&str; 12] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/// Gives `node` the focus when it appears and whenever `deps` change: where a dialog's safe
/// or main answer is, so that the keyboard reaches it without a hunt.
#[hook]
pub fn use_focus<D: PartialEq + 'static>(node: NodeRef, deps: D) {
    use_effect_with(deps, move |_| {
        if let Some(el) = node.cast::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
        || ()
    });
}

/// Runs a command; a failure lands in the app's error banner.
pub fn run(cmd: &'static str, args: serde_json::Value, on_error: Callback<IpcError>) {
    spawn_local(async move {
        if let Err(e) = tauri::call(cmd, &args).await {
            on_error.emit(e);
        }
    });
}

pub fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// The current value of an input, read from the DOM. Callbacks built at the last render can
/// hold a value a fast typist (or a test driver) has already changed.
pub fn field_value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

pub fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}
