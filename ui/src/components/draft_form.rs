//! The after-call form of one draft. It owns what the agent types: the draft the core sends
//! back only seeds it, so a delta arriving mid-sentence never overwrites a keystroke.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use ringside_core::ipc::cmd;
use ringside_core::limits::{self, NOTES_MAX_BYTES};
use ringside_core::{CallDraft, Disposition, DraftView, IpcError, Language};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::{input_value, select_value, Tx};
use crate::{tauri, view};

/// Autosave delay after the agent's last keystroke.
const DRAFT_DEBOUNCE_MS: u32 = 300;

#[derive(Properties, PartialEq)]
pub struct DraftFormProps {
    pub t: Tx,
    pub view: DraftView,
    pub dispositions: Rc<Vec<Disposition>>,
    pub language: Language,
    pub on_error: Callback<IpcError>,
    /// The core took the submit: the caller's name, for the confirmation.
    pub on_submitted: Callback<String>,
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
    let submitting = use_state(|| false);
    let notes_ref = use_node_ref();
    let disposition_ref = use_node_ref();
    let tags_ref = use_node_ref();
    // WebKitGTK's date field keeps Tab inside its day/month/year parts for ever (seen with the
    // keyboard-only e2e test): Tab and Shift+Tab leave it for the next and previous fields.
    let date_keys = {
        let (disposition_ref, tags_ref) = (disposition_ref.clone(), tags_ref.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Tab" {
                return;
            }
            let next = if e.shift_key() {
                &disposition_ref
            } else {
                &tags_ref
            };
            if let Some(el) = next.cast::<HtmlElement>() {
                e.prevent_default();
                let _ = el.focus();
            }
        })
    };
    // Just hung up: the notes are where the agent types next, unless they are already typing
    // somewhere else (a form field, the dial pad).
    {
        let notes_ref = notes_ref.clone();
        use_effect_with((), move |_| {
            let busy = view::focused().is_some_and(|el| match el.tag_name().as_str() {
                "TEXTAREA" | "SELECT" => true,
                // An empty field (the dial pad after a call) holds nothing to lose.
                "INPUT" => el
                    .dyn_ref::<web_sys::HtmlInputElement>()
                    .is_some_and(|i| !i.value().is_empty()),
                _ => false,
            });
            if !busy {
                if let Some(el) = notes_ref.cast::<HtmlElement>() {
                    let _ = el.focus();
                }
            }
            || ()
        });
    }
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
    let onsubmit = {
        let (latest, pending, on_error, on_submitted, submitting, who) = (
            latest.clone(),
            pending.clone(),
            p.on_error.clone(),
            p.on_submitted.clone(),
            submitting.clone(),
            who.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *submitting {
                return;
            }
            pending.borrow_mut().take();
            let draft = latest.borrow().clone();
            if let Err(e) = limits::check_draft(&draft) {
                on_error.emit(IpcError::new(e.code(), e.to_string()));
                return;
            }
            submitting.set(true);
            let (on_error, on_submitted, submitting, who) = (
                on_error.clone(),
                on_submitted.clone(),
                submitting.clone(),
                who.clone(),
            );
            spawn_local(async move {
                match tauri::call(cmd::SUBMIT_DRAFT, &json!({ "draft": draft })).await {
                    Ok(()) => on_submitted.emit(who),
                    Err(e) => {
                        submitting.set(false);
                        on_error.emit(e);
                    }
                }
            });
        })
    };
    let id = p.view.draft.call_log_id.clone();
    // Bytes, the contract's unit: exact for plain text, and an accented letter counts twice,
    // so the count never lets through what the backend would refuse.
    let left = limits::notes_remaining(&draft.notes);
    let over = left < 0;
    html! {
        <form class="wrap-up" onsubmit={onsubmit} data-call-log-id={id.clone()} aria-labelledby={format!("wrap-{id}")}>
            <div class="call-head">
                <span class="call-label" id={format!("wrap-{id}")}>{ t.after_call }</span>
                <span class="muted">{ format!("{who} · {} {}", view::timer(talk), t.talk_time.to_lowercase()) }</span>
            </div>
            if let Some(reason) = &p.view.refused {
                <p class="form-error refused" role="alert" data-code="draft_refused">
                    { t.draft_refused.replace("{reason}", reason) }
                </p>
            }
            <label for={format!("notes-{id}")}>{ t.notes }</label>
            <textarea id={format!("notes-{id}")} ref={notes_ref} class="draft-notes" rows="4" value={draft.notes.clone()} oninput={on_notes}
                placeholder={t.notes_placeholder} aria-invalid={over.to_string()} aria-describedby={format!("notes-left-{id}")} />
            <p id={format!("notes-left-{id}")} class={classes!("notes-left", if over { "form-error" } else { "muted" })} data-left={left.to_string()}>
                { if over {
                    t.notes_over.replace("{n}", &(-left).to_string())
                } else if left < NOTES_MAX_BYTES as i64 / 10 {
                    t.notes_left.replace("{n}", &left.to_string())
                } else {
                    String::new()
                } }
            </p>
            <div class="grid3">
                <div>
                    <label for={format!("disp-{id}")}>{ t.disposition }</label>
                    <select id={format!("disp-{id}")} ref={disposition_ref} class="draft-disposition" onchange={on_disposition}>
                        <option value="" selected={draft.disposition.is_none()}>{ t.choose }</option>
                        { for p.dispositions.iter().map(|d| html! {
                            <option value={d.code.clone()} selected={draft.disposition.as_deref() == Some(d.code.as_str())}>{ d.label_in(p.language.as_str()).to_string() }</option>
                        }) }
                    </select>
                </div>
                <div>
                    <label for={format!("follow-{id}")}>{ t.follow_up }</label>
                    <input id={format!("follow-{id}")} class="draft-follow-up" type="date" value={draft.follow_up.clone().unwrap_or_default()} oninput={on_follow_up} onkeydown={date_keys} />
                </div>
                <div>
                    <label for={format!("tags-{id}")}>{ t.tags }</label>
                    <input id={format!("tags-{id}")} ref={tags_ref} class="draft-tags" value={(*tags_text).clone()} oninput={on_tags} placeholder={t.tags_hint} />
                </div>
            </div>
            <div class="actions">
                <span class="save-state muted" aria-live="polite">{ if *saved { t.saved_here } else { t.saving } }</span>
                <button type="submit" class="accept" data-action="submit-draft" disabled={over || *submitting}>{ t.submit }</button>
            </div>
        </form>
    }
}
