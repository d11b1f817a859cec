//! The after-call form of one draft. It owns what the agent types: the draft the core sends
//! back only seeds it, so a delta arriving mid-sentence never overwrites a keystroke.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use ringside_core::ipc::cmd;
use ringside_core::{CallDraft, Disposition, DraftView, IpcError};
use serde_json::json;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::{input_value, run, select_value, Tx};
use crate::{tauri, view};

/// Autosave delay after the agent's last keystroke.
const DRAFT_DEBOUNCE_MS: u32 = 300;

#[derive(Properties, PartialEq)]
pub struct DraftFormProps {
    pub t: Tx,
    pub view: DraftView,
    pub dispositions: Rc<Vec<Disposition>>,
    pub on_error: Callback<IpcError>,
}

#[function_component(DraftForm)]
pub fn draft_form(p: &DraftFormProps) -> Html {
    let t = p.t;
    let initial = p.view.draft.clone();
    let draft = use_state(move || initial);
    // The draft as of the last keystroke, updated at once (the state above only at the next
    // render): every edit builds on it, and Submit sends it, so no keystroke is ever lost.
    let latest: Rc<RefCell<CallDraft>> = use_mut_ref(|| p.view.draft.clone());
    let tags_text = use_state(|| p.view.draft.tags.join(", "));
    let saved = use_state(|| true);
    let pending: Rc<RefCell<Option<Timeout>>> = use_mut_ref(|| None);

    // Every edit: show it at once, save it when the agent pauses.
    let edit = {
        let (draft, latest, saved, pending, on_error) = (
            draft.clone(),
            latest.clone(),
            saved.clone(),
            pending.clone(),
            p.on_error.clone(),
        );
        Callback::from(move |change: Box<dyn FnOnce(&mut CallDraft)>| {
            let next = {
                let mut d = latest.borrow_mut();
                change(&mut d);
                d.clone()
            };
            draft.set(next.clone());
            saved.set(false);
            let (saved, on_error) = (saved.clone(), on_error.clone());
            *pending.borrow_mut() = Some(Timeout::new(DRAFT_DEBOUNCE_MS, move || {
                spawn_local(async move {
                    match tauri::call(cmd::SAVE_DRAFT, &json!({ "draft": next })).await {
                        Ok(()) => saved.set(true),
                        Err(e) => on_error.emit(e),
                    }
                });
            }));
        })
    };
    let on_notes = {
        let edit = edit.clone();
        Callback::from(move |e: InputEvent| {
            let notes = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            edit.emit(Box::new(move |d: &mut CallDraft| d.notes = notes));
        })
    };
    let on_disposition = {
        let edit = edit.clone();
        Callback::from(move |e: Event| {
            let v = select_value(&e);
            edit.emit(Box::new(move |d: &mut CallDraft| {
                d.disposition = (!v.is_empty()).then_some(v)
            }));
        })
    };
    let on_follow_up = {
        let edit = edit.clone();
        Callback::from(move |e: InputEvent| {
            let v = input_value(&e);
            edit.emit(Box::new(move |d: &mut CallDraft| {
                d.follow_up = (!v.is_empty()).then_some(v)
            }));
        })
    };
    let on_tags = {
        let (edit, tags_text) = (edit.clone(), tags_text.clone());
        Callback::from(move |e: InputEvent| {
            let v = input_value(&e);
            tags_text.set(v.clone());
            edit.emit(Box::new(move |d: &mut CallDraft| {
                d.tags = view::parse_tags(&v)
            }));
        })
    };
    let onsubmit = {
        let (latest, pending, on_error) = (latest.clone(), pending.clone(), p.on_error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            pending.borrow_mut().take();
            let draft = latest.borrow().clone();
            run(
                cmd::SUBMIT_DRAFT,
                json!({ "draft": draft }),
                on_error.clone(),
            );
        })
    };
    let id = p.view.draft.call_log_id.clone();
    let (who, talk) = p
        .view
        .log
        .as_ref()
        .map(|l| {
            (
                l.contact_name.clone().unwrap_or_else(|| l.peer.clone()),
                l.talk_seconds,
            )
        })
        .unwrap_or_default();
    html! {
        <form class="wrap-up" onsubmit={onsubmit} data-call-log-id={id.clone()} aria-labelledby={format!("wrap-{id}")}>
            <div class="call-head">
                <span class="call-label" id={format!("wrap-{id}")}>{ t.after_call }</span>
                <span class="muted">{ format!("{who} · {} {}", view::timer(talk), t.talk_time.to_lowercase()) }</span>
            </div>
            <label for={format!("notes-{id}")}>{ t.notes }</label>
            <textarea id={format!("notes-{id}")} class="draft-notes" rows="4" value={draft.notes.clone()} oninput={on_notes}
                placeholder={t.notes_placeholder} />
            <div class="grid3">
                <div>
                    <label for={format!("disp-{id}")}>{ t.disposition }</label>
                    <select id={format!("disp-{id}")} class="draft-disposition" onchange={on_disposition}>
                        <option value="" selected={draft.disposition.is_none()}>{ t.choose }</option>
                        { for p.dispositions.iter().map(|d| html! {
                            <option value={d.code.clone()} selected={draft.disposition.as_deref() == Some(d.code.as_str())}>{ d.label.clone() }</option>
                        }) }
                    </select>
                </div>
                <div>
                    <label for={format!("follow-{id}")}>{ t.follow_up }</label>
                    <input id={format!("follow-{id}")} class="draft-follow-up" type="date" value={draft.follow_up.clone().unwrap_or_default()} oninput={on_follow_up} />
                </div>
                <div>
                    <label for={format!("tags-{id}")}>{ t.tags }</label>
                    <input id={format!("tags-{id}")} class="draft-tags" value={(*tags_text).clone()} oninput={on_tags} placeholder={t.tags_hint} />
                </div>
            </div>
            <div class="actions">
                <span class="save-state muted" aria-live="polite">{ if *saved { t.saved_here } else { t.saving } }</span>
                <button type="submit" class="accept" data-action="submit-draft">{ t.submit }</button>
            </div>
        </form>
    }
}
