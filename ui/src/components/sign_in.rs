//! The sign-in form, shown until the core reports a signed-in session.

use std::rc::Rc;

use ringside_core::ipc::cmd;
use ringside_core::{IpcError, SessionState, SessionView};
use serde_json::json;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::{field_value, input_value, Tx};
use crate::{tauri, view};

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    pub t: Tx,
    pub session: Rc<SessionView>,
}

#[function_component(SignIn)]
pub fn sign_in(p: &SignInProps) -> Html {
    let t = p.t;
    let session = &p.session;
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
                if let Err(e) = tauri::call(cmd::SIGN_IN, &args).await {
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
                if session.insecure {
                    <p class="form-warning" id="signin-not-secure" role="note">{ t.not_secure_sign_in }</p>
                }
                if let Some(why) = &session.keyring_unavailable {
                    <p class="muted small" id="signin-no-keyring" role="note" title={why.clone()}>{ t.keyring_unavailable }</p>
                }
                if let Some(e) = error {
                    <p class="form-error" role="alert" data-code={e.code.clone()}>{ view::sign_in_problem(t, &e, &session.backend_url) }</p>
                }
                <button id="signin-submit" type="submit" class="accept" disabled={busy}>
                    { if busy { t.signing_in } else { t.sign_in } }
                </button>
            </form>
        </main>
    }
}
