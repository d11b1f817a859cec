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

/// The form to show. `chosen` is the one on screen (or picked by the agent); `arrived` are
/// drafts that were not there at the last render (calls that just ended); `typing` says the
/// agent is in the open form.
///
/// A call that just ended opens its own form, which is where an agent who has just hung up
/// writes, unless the agent is typing in the open form: then nothing moves under them, and
/// the new one waits in the list. The form is held by id, never by position, so a list that
/// changes around it never swaps the call under the cursor.
pub fn open_form(
    drafts: &[DraftView],
    chosen: Option<&str>,
    arrived: &[String],
    typing: bool,
) -> Option<String> {
    let still_open = chosen.filter(|id| drafts.iter().any(|d| d.draft.call_log_id == *id));
    if let (false, Some(newest)) = (typing && still_open.is_some(), arrived.last()) {
        return Some(newest.clone());
    }
    still_open
        .map(str::to_string)
        .or_else(|| drafts.first().map(|d| d.draft.call_log_id.clone()))
}

#[function_component(Drafts)]
pub fn drafts(p: &DraftsProps) -> Html {
    let t = p.t;
    let open = use_state(|| None::<String>);
    // The drafts seen at the last render, to tell which ones just arrived.
    let seen: std::rc::Rc<std::cell::RefCell<Option<Vec<String>>>> = use_mut_ref(|| None);
    let arrived: Vec<String> = match seen.borrow().as_ref() {
        // The first render is a restart or a new window: nothing "just" ended.
        None => Vec::new(),
        Some(before) => p
            .drafts
            .iter()
            .map(|d| d.draft.call_log_id.clone())
            .filter(|id| !before.contains(id))
            .collect(),
    };
    *seen.borrow_mut() = Some(
        p.drafts
            .iter()
            .map(|d| d.draft.call_log_id.clone())
            .collect(),
    );
    let typing = crate::view::focused()
        .and_then(|el| el.closest(".wrap-up").ok().flatten())
        .is_some();
    let current = open_form(&p.drafts, open.as_deref(), &arrived, typing);
    // Whatever is shown becomes the agent's choice, so that it stays until they choose
    // another, submit it, or a call ends while they are not typing.
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
        assert_eq!(open_form(&list, None, &[], false).as_deref(), Some("a"));
        assert_eq!(
            open_form(&list, Some("b"), &[], false).as_deref(),
            Some("b")
        );
        // Reordered: still "b".
        let moved = vec![view("c"), view("b"), view("a")];
        assert_eq!(
            open_form(&moved, Some("b"), &[], true).as_deref(),
            Some("b")
        );
        // Submitted: the oldest left.
        assert_eq!(
            open_form(&[view("a")], Some("b"), &[], false).as_deref(),
            Some("a")
        );
        assert_eq!(open_form(&[], Some("b"), &[], false), None);
    }

    #[test]
    fn a_call_that_just_ended_opens_its_form_unless_the_agent_is_typing() {
        let list = vec![view("a"), view("b")];
        let arrived = ["b".to_string()];
        assert_eq!(
            open_form(&list, Some("a"), &arrived, false).as_deref(),
            Some("b")
        );
        assert_eq!(
            open_form(&list, Some("a"), &arrived, true).as_deref(),
            Some("a")
        );
        // Typing, but the form typed in is gone (submitted): the new one.
        assert_eq!(
            open_form(&list[1..], Some("x"), &arrived, true).as_deref(),
            Some("b")
        );
    }
}
