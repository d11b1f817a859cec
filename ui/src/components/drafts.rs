//! The unfinished after-call work: the open draft's form, and a row for each other draft.

use std::rc::Rc;

use ringside_core::{Disposition, DraftView, IpcError};
use yew::prelude::*;

use super::draft_form::DraftForm;
use super::Tx;

#[derive(Properties, PartialEq)]
pub struct DraftsProps {
    pub t: Tx,
    pub drafts: Rc<Vec<DraftView>>,
    pub dispositions: Rc<Vec<Disposition>>,
    pub on_error: Callback<IpcError>,
}

#[function_component(Drafts)]
pub fn drafts(p: &DraftsProps) -> Html {
    let t = p.t;
    let open = use_state(|| None::<String>);
    if p.drafts.is_empty() {
        return html! {};
    }
    let first = p.drafts.first().map(|d| d.draft.call_log_id.clone());
    let current = (*open)
        .clone()
        .filter(|id| p.drafts.iter().any(|d| d.draft.call_log_id == *id))
        .or(first);
    html! {
        <section class="drafts" aria-label={t.unfinished_work}>
            if p.drafts.len() > 1 {
                <h2 class="section-title">{ format!("{} ({})", t.unfinished_work, p.drafts.len()) }</h2>
            }
            { for p.drafts.iter().map(|d| {
                let id = d.draft.call_log_id.clone();
                if Some(&id) == current.as_ref() {
                    html! { <DraftForm key={id.clone()} t={t} view={d.clone()} dispositions={p.dispositions.clone()} on_error={p.on_error.clone()} /> }
                } else {
                    let who = d.log.as_ref().map(|l| l.contact_name.clone().unwrap_or_else(|| l.peer.clone())).unwrap_or_default();
                    let open = open.clone();
                    html! {
                        <div class="draft-row" key={id.clone()} data-call-log-id={id.clone()}>
                            <span>{ who }</span>
                            <span class="muted">{ d.draft.notes.chars().take(40).collect::<String>() }</span>
                            <button data-action="resume-draft" onclick={Callback::from(move |_| open.set(Some(id.clone())))}>{ t.resume_draft }</button>
                        </div>
                    }
                }
            }) }
        </section>
    }
}
