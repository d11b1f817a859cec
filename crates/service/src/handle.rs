//! The way into the event loop: every call is a message, answered once the loop handled it.

use std::sync::Arc;

use ringside_core::{
    AgentStatus, CallDraft, Intent, IpcError, OfferAction, Preferences, Secret, Snapshot,
};
use ringside_sync::Client;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::{DesktopSink, PhoneSink, UiSink};

pub(crate) type Reply<T = ()> = oneshot::Sender<Result<T, IpcError>>;

/// What the outside asks of the loop.
pub(crate) enum Msg {
    /// Webphone callbacks (kind, raw arguments), in the order they were reported.
    Phone {
        events: Vec<(String, Vec<Value>)>,
        reply: Reply,
    },
    Intent {
        intent: Intent,
        reply: Reply,
    },
    SaveDraft {
        draft: CallDraft,
        reply: Reply,
    },
    SubmitDraft {
        draft: CallDraft,
        reply: Reply,
    },
    SignIn {
        username: String,
        password: Secret,
        reply: Reply,
    },
    SignOut {
        reply: Reply,
    },
    SetAgentStatus {
        status: AgentStatus,
        reply: Reply,
    },
    SetPreferences {
        preferences: Preferences,
        reply: Reply,
    },
    SetWebphoneLocation {
        location: String,
        reply: Reply,
    },
    Simulate {
        action: String,
        call_id: Option<String>,
        reply: Reply,
    },
    SimulateIncoming {
        number: String,
        reply: Reply,
    },
    DismissNotice {
        reply: Reply,
    },
    OpenLink {
        link: String,
        reply: Reply,
    },
    DialOffer {
        action: OfferAction,
        reply: Reply,
    },
    WatchDesktop {
        sink: DesktopSink,
        reply: Reply,
    },
    RequestQuit {
        reply: Reply<bool>,
    },
    ShortcutsReport {
        shortcuts: Vec<ringside_core::ShortcutView>,
        reply: Reply,
    },
    StartAtLogin {
        enabled: Option<bool>,
        reply: Reply,
    },
    Update {
        update: Option<ringside_core::UpdateView>,
        reply: Reply,
    },
    AnswerQuit {
        quit: bool,
        reply: Reply,
    },
    Subscribe {
        sink: UiSink,
        reply: Reply,
    },
    AttachPhone {
        sink: PhoneSink,
        reply: Reply,
    },
    Snapshot {
        reply: Reply<Snapshot>,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// A cheap, clonable handle on the running core. Every method waits until the loop has
/// handled the request (a webphone callback is journaled and committed when its call
/// returns), and fails with `stopped` once the core has shut down.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Msg>,
    client: Arc<Client>,
    demo: bool,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").field("demo", &self.demo).finish()
    }
}

fn stopped() -> IpcError {
    IpcError::new("stopped", "Ringside's core has stopped.")
}

impl Handle {
    pub(crate) fn new(tx: mpsc::Sender<Msg>, client: Arc<Client>, demo: bool) -> Self {
        Self { tx, client, demo }
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Msg) -> Result<T, IpcError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// A raw webphone callback from the bridge: journaled, then handled.
    pub async fn phone_event(&self, kind: String, args: Vec<Value>) -> Result<(), IpcError> {
        self.phone_events(vec![(kind, args)]).await
    }

    /// Several callbacks, in the order the webphone reported them: each is checked and
    /// handled on its own (one refused does not stop the others), and the answer is the first
    /// refusal, if any.
    pub async fn phone_events(&self, events: Vec<(String, Vec<Value>)>) -> Result<(), IpcError> {
        self.ask(|reply| Msg::Phone { events, reply }).await
    }

    /// An agent's intent from the UI.
    pub async fn intent(&self, intent: Intent) -> Result<(), IpcError> {
        self.ask(|reply| Msg::Intent { intent, reply }).await
    }

    /// Autosave of the after-call form (the UI debounces keystrokes).
    pub async fn save_draft(&self, draft: CallDraft) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SaveDraft { draft, reply }).await
    }

    pub async fn submit_draft(&self, draft: CallDraft) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SubmitDraft { draft, reply }).await
    }

    /// Sign-in from the sign-in screen: one attempt, and a plain answer.
    pub async fn sign_in(&self, username: String, password: Secret) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SignIn {
            username,
            password,
            reply,
        })
        .await
    }

    /// The agent leaves the queues (best effort), the webphone stops, the backend link
    /// closes. Unsynced work stays in the outbox for the next sign-in.
    pub async fn sign_out(&self) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SignOut { reply }).await
    }

    /// Available, paused with a reason, or logged out; answered once the backend applied it.
    pub async fn set_agent_status(&self, status: AgentStatus) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SetAgentStatus { status, reply })
            .await
    }

    pub async fn set_preferences(&self, preferences: Preferences) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SetPreferences { preferences, reply })
            .await
    }

    /// Saves the webphone location to the user's config file; used from the next start.
    pub async fn set_webphone_location(&self, location: String) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SetWebphoneLocation { location, reply })
            .await
    }

    /// Demo mode only: the other party's side of a call (`remote_hangup`, `remote_answer`).
    pub async fn simulate(&self, action: String, call_id: Option<String>) -> Result<(), IpcError> {
        self.ask(|reply| Msg::Simulate {
            action,
            call_id,
            reply,
        })
        .await
    }

    /// Demo mode only: the simulator rings with a queue call from `number`.
    pub async fn simulate_incoming(&self, number: String) -> Result<(), IpcError> {
        self.ask(|reply| Msg::SimulateIncoming { number, reply })
            .await
    }

    /// A `tel:`/`sip:`/`callto:` link or a `ringside dial` number from outside: dialled at
    /// once when policy says `dial` and no call is up, else offered to the agent. A link with
    /// no number in it is refused, and the agent is told.
    pub async fn open_link(&self, link: String) -> Result<(), IpcError> {
        self.ask(|reply| Msg::OpenLink { link, reply }).await
    }

    /// The agent's answer to the number offered.
    pub async fn dial_offer(&self, action: OfferAction) -> Result<(), IpcError> {
        self.ask(|reply| Msg::DialOffer { action, reply }).await
    }

    /// Makes `sink` the desktop's watcher (notifications, tray, quit prompt): it receives the
    /// [`ringside_core::desktop::DesktopState`] now, then each time it changes.
    pub async fn watch_desktop(&self, sink: DesktopSink) -> Result<(), IpcError> {
        self.ask(|reply| Msg::WatchDesktop { sink, reply }).await
    }

    /// The agent asked to quit: `true` when nothing is at risk (quit now); else the window is
    /// shown what would be lost, and `false`.
    pub async fn request_quit(&self) -> Result<bool, IpcError> {
        self.ask(|reply| Msg::RequestQuit { reply }).await
    }

    /// What became of the system-wide shortcuts (the shell registers them): Settings lists
    /// them, and one that could not be registered is said once.
    pub async fn report_shortcuts(
        &self,
        shortcuts: Vec<ringside_core::ShortcutView>,
    ) -> Result<(), IpcError> {
        self.ask(|reply| Msg::ShortcutsReport { shortcuts, reply })
            .await
    }

    /// Whether Ringside starts at login, as the shell found it (for Settings).
    pub async fn report_start_at_login(&self, enabled: Option<bool>) -> Result<(), IpcError> {
        self.ask(|reply| Msg::StartAtLogin { enabled, reply }).await
    }

    /// What the shell's updater has to say (an update downloading, ready, refused), or
    /// `None` when it has nothing to say.
    pub async fn report_update(
        &self,
        update: Option<ringside_core::UpdateView>,
    ) -> Result<(), IpcError> {
        self.ask(|reply| Msg::Update { update, reply }).await
    }

    /// The agent's answer to the quit prompt; the caller quits when `quit`.
    pub async fn answer_quit(&self, quit: bool) -> Result<(), IpcError> {
        self.ask(|reply| Msg::AnswerQuit { quit, reply }).await
    }

    /// Clears the banner the agent dismissed.
    pub async fn dismiss_notice(&self) -> Result<(), IpcError> {
        self.ask(|reply| Msg::DismissNotice { reply }).await
    }

    /// Makes `sink` the UI: it receives every part at once, then only what changes. A new
    /// subscription (the window reloaded) replaces the previous one.
    pub async fn subscribe(&self, sink: UiSink) -> Result<(), IpcError> {
        self.ask(|reply| Msg::Subscribe { sink, reply }).await
    }

    /// Makes `sink` the webphone bridge; commands produced before it attached are delivered
    /// now, in order.
    pub async fn attach_phone(&self, sink: PhoneSink) -> Result<(), IpcError> {
        self.ask(|reply| Msg::AttachPhone { sink, reply }).await
    }

    /// The whole current snapshot (tests, diagnostics).
    pub async fn snapshot(&self) -> Result<Snapshot, IpcError> {
        self.ask(|reply| Msg::Snapshot { reply }).await
    }

    /// Stops the workers, lets an outbox batch in flight settle (or stay queued), closes the
    /// journal and the store, and returns once the loop has ended. Safe to call twice.
    pub async fn shutdown(&self) {
        let (done, ended) = oneshot::channel();
        if self.tx.send(Msg::Shutdown { done }).await.is_ok() {
            let _ = ended.await;
        }
    }

    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// The backend client, for tests and tools that check what reached the backend.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
