//! The unfinished after-call work: the open draft's form, and a row for each other draft.

use std::rc::Rc;

use ringside_core::{Disposition, DraftView, IpcError, Language};
use yew::prelude::*;

use super::draft_form::DraftForm;
use super::Tx;

#[derive(Properties, PartialEq)]
pub struct DraftsProps {
    pub t: Tx,
    pub drafts: Rc<Vec<DraftView>>,
    pub dispositions: Rc<Vec<Disposition>>,
    pub language: Language,
    pub on_error: Callback<IpcError>,
    pub on_submitted: Callback<String>,
}

/// The form to show: the one the agent chose (or was shown) while it is still open, else the
/// oldest. Held by id, never by position, so a list that changes around it never swaps the
/// call under the agent's cursor.
pub fn open_form(drafts: &[DraftView], chosen: Option<&str>) -> Option<String> {
    chosen
        .filter(|id| drafts.iter().any(|d| d.draft.call_log_id == *id))
        .map(str::to_string)
        .or_else(|| drafts.first().map(|d| d.draft.call_log_id.clone()))
}

#[function_component(Drafts)]
pub fn drafts(p: &DraftsProps) -> Html {
    let t = p.t;
    let open = use_state(|| None::<String>);
    let current = open_form(&p.drafts, open.as_deref());
    // Whatever is shown becomes the agent's choice, so that it stays until they choose
    // another or submit it.
    {
        let open = open.clone();
        use_effect_with(current.clone(), move |current| {
            if *open != *current {
                open.set(current.clone());
            }
            || ()
        });
    }
    if p.drafts.is_empty() {
        return html! {};
    }
    html! {
        <section class="drafts" aria-label={t.unfinished_work}>
            if p.drafts.len() > 1 {
                <h2 class="section-title">{ format!("{} ({})", t.unfinished_work, p.drafts.len()) }</h2>
            }
            { for p.drafts.iter().map(|d| {
                let id = d.draft.call_log_id.clone();
                if Some(&id) == current.as_ref() {
                    html! { <DraftForm key={id.clone()} t={t} view={d.clone()} dispositions={p.dispositions.clone()} language={p.language}
                        on_error={p.on_error.clone()} on_submitted={p.on_submitted.clone()} /> }
                } else {
                    let who = d.log.as_ref().map(|l| l.contact_name.clone().unwrap_or_else(|| l.peer.clone())).unwrap_or_default();
                    let open = open.clone();
                    html! {
                        <div class={classes!("draft-row", d.refused.is_some().then_some("refused"))} key={id.clone()} data-call-log-id={id.clone()}>
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

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_core::CallDraft;

    fn view(id: &str) -> DraftView {
        DraftView {
            draft: CallDraft {
                call_log_id: id.into(),
                ..CallDraft::default()
            },
            log: None,
            refused: None,
        }
    }

    #[test]
    fn the_chosen_form_stays_whatever_the_list_does() {
        let list = vec![view("a"), view("b")];
        assert_eq!(open_form(&list, None).as_deref(), Some("a"));
        assert_eq!(open_form(&list, Some("b")).as_deref(), Some("b"));
        // Reordered, or a newer call's draft added in front: still "b".
        let moved = vec![view("c"), view("b"), view("a")];
        assert_eq!(open_form(&moved, Some("b")).as_deref(), Some("b"));
        // Submitted: the oldest left.
        assert_eq!(open_form(&[view("a")], Some("b")).as_deref(), Some("a"));
        assert_eq!(open_form(&[], Some("b")), None);
    }
}
