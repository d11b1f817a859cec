//! # Ringside UI
//!
//! A view of the core's state: it renders the snapshot the core's deltas build and sends the
//! agent's intents back. It keeps no call state of its own, only what the agent is typing.
//!
//! ## Layout
//! - [`tauri`]: the calls into the shell (`call`, `subscribe`), typed.
//! - [`state`]: the snapshot as the UI holds it, one `Rc` per part, and how a delta updates it.
//! - [`i18n`]: every string, per language (English, French).
//! - [`view`]: pure presentation logic (labels, filters, shortcuts), unit-tested without a browser.
//! - [`app`]: the root component: the subscription, the layout, the keyboard shortcuts.
//! - [`components`]: the components it lays out, one per file.

mod app;
mod components;
mod i18n;
mod state;
mod tauri;
mod view;

fn main() {
    // The app owns `#app` only: Yew clears the element it mounts on, and the body also holds
    // the webphone's iframe (`relay.js`), which must outlive any re-render.
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"));
    match root {
        Some(root) => yew::Renderer::<app::App>::with_root(root).render(),
        None => yew::Renderer::<app::App>::new().render(),
    };
}
