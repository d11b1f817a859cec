//! # Ringside UI
//!
//! A view of the core's state: it renders the snapshots the core pushes and sends the agent's
//! intents back. It keeps no call state of its own, only what the agent is typing.
//!
//! ## Layout
//! - [`tauri`]: the two calls into the shell (`invoke`, `listen`), typed.
//! - [`i18n`]: every string, per language (English, French).
//! - [`view`]: pure presentation logic (labels, filters, shortcuts), unit-tested without a browser.
//! - [`app`]: the Yew components.

mod app;
mod i18n;
mod tauri;
mod view;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
