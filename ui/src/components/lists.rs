//! The day's history and the contacts, as two tabs with a search field.
//!
//! Each row is its own keyed component with props compared by value: when a call adds a row,
//! the list renders once, every other row compares equal and keeps its DOM, and only the new
//! row is built.

use std::rc::Rc;

use ringside_core::{
    CallStatus, ContactView, Direction, Disposition, DraftState, HistoryEntry, Intent, Language,
};
use yew::prelude::*;

use super::{input_value, select_value, Tx};
use crate::view::{self, HistoryFilter};

/// History rows shown at first, and added by each "Show more": the day's history can reach
/// hundreds of calls, and every row on the page is laid out again when a call adds one at the
/// top (measured: the burst bench's UI lag, docs/performance.md).
const HISTORY_PAGE: usize = 25;

#[derive(Properties, PartialEq)]
pub struct ListsProps {
    pub t: Tx,
    pub history: Rc<Vec<Rc<HistoryEntry>>>,
    pub contacts: Rc<Vec<ContactView>>,
    pub dispositions: Rc<Vec<Disposition>>,
    pub language: Language,
    pub on_intent: Callback<Intent>,
}

#[function_component(Lists)]
pub fn lists(p: &ListsProps) -> Html {
    let t = p.t;
    let tab = use_state(|| "history");
    let filter = use_state(|| HistoryFilter::All);
    let query = use_state(String::new);
    let shown = use_state(|| HISTORY_PAGE);
    let select_tab = |name: &'static str| {
        let tab = tab.clone();
        Callback::from(move |_| tab.set(name))
    };
    let q = query.to_lowercase();
    html! {
        <div class="panel lists">
            <div class="tabs" role="tablist">
                <button role="tab" id="tab-history" aria-selected={(*tab == "history").to_string()} onclick={select_tab("history")}>{ t.history }</button>
                <button role="tab" id="tab-contacts" aria-selected={(*tab == "contacts").to_string()} onclick={select_tab("contacts")}>{ t.contacts }</button>
            </div>
            <div class="row filters">
                <input id="list-search" type="search" aria-label={t.search} placeholder={t.search} value={(*query).clone()}
                    oninput={{ let q = query.clone(); Callback::from(move |e: InputEvent| q.set(input_value(&e))) }} />
                if *tab == "history" {
                    <select id="history-filter" aria-label={t.filter_all}
                        onchange={{ let f = filter.clone(); Callback::from(move |e: Event| f.set(HistoryFilter::parse(&select_value(&e)))) }}>
                        <option value="all">{ t.filter_all }</option>
                        <option value="missed">{ t.filter_missed }</option>
                        <option value="inbound">{ t.filter_inbound }</option>
                        <option value="outbound">{ t.filter_outbound }</option>
                    </select>
                }
            </div>
            if *tab == "history" {
                { {
                    let rows = view::filter_history(&p.history, *filter, &query);
                    if rows.is_empty() {
                        html! { <p class="muted">{ t.no_history }</p> }
                    } else {
                        let hidden = rows.len().saturating_sub(*shown);
                        html! { <>
                            <ul role="tabpanel" aria-labelledby="tab-history">
                                { for rows.into_iter().take(*shown).map(|r| html! {
                                    <HistoryRow key={r.log.id.clone()} t={t} entry={Rc::clone(r)} dispositions={p.dispositions.clone()}
                                        language={p.language} on_intent={p.on_intent.clone()} />
                                }) }
                            </ul>
                            if hidden > 0 {
                                <button id="history-more" type="button" class="link"
                                    onclick={{ let shown = shown.clone(); Callback::from(move |_| shown.set(*shown + HISTORY_PAGE)) }}>
                                    { t.show_more.replace("{n}", &hidden.to_string()) }
                                </button>
                            }
                        </> }
                    }
                } }
            } else {
                { {
                    let rows: Vec<&ContactView> = p.contacts.iter()
                        .filter(|c| q.is_empty() || c.name.to_lowercase().contains(&q) || c.phone.contains(&q))
                        .collect();
                    if rows.is_empty() {
                        html! { <p class="muted">{ t.no_contacts }</p> }
                    } else {
                        html! { <ul role="tabpanel" aria-labelledby="tab-contacts">
                            { for rows.into_iter().map(|c| html! {
                                <ContactRow key={c.id.clone()} t={t} contact={c.clone()} on_intent={p.on_intent.clone()} />
                            }) }
                        </ul> }
                    }
                } }
            }
        </div>
    }
}

/// Dials `number`: the rows' call buttons.
fn dial(on_intent: &Callback<Intent>, number: &str) -> Callback<MouseEvent> {
    let (on, number) = (on_intent.clone(), number.to_string());
    Callback::from(move |_| {
        on.emit(Intent::Dial {
            number: number.clone(),
        })
    })
}

#[derive(Properties, PartialEq)]
struct HistoryRowProps {
    t: Tx,
    entry: Rc<HistoryEntry>,
    dispositions: Rc<Vec<Disposition>>,
    language: Language,
    on_intent: Callback<Intent>,
}

#[function_component(HistoryRow)]
fn history_row(p: &HistoryRowProps) -> Html {
    let t = p.t;
    let r = &p.entry;
    let c = &r.log;
    // A call still ringing or talking is neither synced nor to be called back yet.
    let live = matches!(c.status, CallStatus::Ringing | CallStatus::Talking);
    let (badge, badge_class) = match (live, r.draft, r.synced) {
        (true, _, _) => (t.in_progress, "ok"),
        (_, Some(DraftState::Editing), _) => (t.notes_open, "warn"),
        (_, Some(DraftState::Submitted), false) => (t.notes_waiting, "warn"),
        (_, _, true) => (t.synced, "ok"),
        (_, None, false) => (t.not_synced, "warn"),
    };
    let inbound = c.direction == Direction::Inbound;
    let status = if c.rejected_by_agent && c.status == CallStatus::Missed {
        t.declined
    } else {
        view::status_label(t, c.status, c.direction, false)
    };
    let outcome = r.disposition.as_ref().map(|code| {
        p.dispositions
            .iter()
            .find(|d| d.code == *code)
            .map_or(code.clone(), |d| {
                d.label_in(p.language.as_str()).to_string()
            })
    });
    html! {
        <li class={classes!("recent-call", c.status.as_str(), (c.rejected_by_agent && c.status == CallStatus::Missed).then_some("declined"))}
            data-status={c.status.as_str()} data-direction={if inbound { "inbound" } else { "outbound" }}>
            <span class="dir" aria-label={if inbound { t.inbound } else { t.outbound }}>{ if inbound { "↙" } else { "↗" } }</span>
            <span class="who">{ c.contact_name.clone().unwrap_or_else(|| c.peer.clone()) }</span>
            <span class="status">{ status }</span>
            <span class="talk">
                <time class="at" datetime={c.started_at_ms.to_string()}>{ view::time_of_day(c.started_at_ms, p.language) }</time>
                { format!(" · {}", view::timer(c.talk_seconds)) }
            </span>
            <span class={classes!("badge", badge_class)}>{ badge }</span>
            if !live {
                <button class="link call-back" data-action="call-back" aria-label={format!("{} {}", t.call_back, c.peer)} onclick={dial(&p.on_intent, &c.peer)}>{ t.call_back }</button>
            }
            if let Some(to) = &c.transferred_to {
                <span class="transferred muted">{ t.transferred_to.replace("{n}", to) }</span>
            }
            if outcome.is_some() || r.notes.is_some() {
                <span class="submitted muted">
                    if let Some(o) = outcome { <strong class="outcome">{ o }</strong> }
                    if let Some(n) = &r.notes { <span class="notes-preview">{ n.clone() }</span> }
                </span>
            }
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct ContactRowProps {
    t: Tx,
    contact: ContactView,
    on_intent: Callback<Intent>,
}

#[function_component(ContactRow)]
fn contact_row(p: &ContactRowProps) -> Html {
    let (t, c) = (p.t, &p.contact);
    html! {
        <li class="contact-row">
            <span class="who">{ c.name.clone() }</span>
            <span class="muted">{ c.phone.clone() }</span>
            <button class="link" data-action="call-contact" aria-label={format!("{} {}", t.call, c.name)} onclick={dial(&p.on_intent, &c.phone)}>{ t.call }</button>
        </li>
    }
}
