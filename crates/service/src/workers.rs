//! The network jobs the event loop hands out. A worker gets what it needs by value, does its
//! IO, and posts one [`Done`] back; it never sees the engine or the store. Every worker stops
//! when the loop shuts down.

use std::sync::Arc;
use std::time::Duration;

use ringside_core::{
    AgentState, AgentStatus, ContactView, Disposition, IpcError, PauseReason, PbxAnswer,
    PbxTransferRequest, Secret,
};
use ringside_store::OutboxItem;
use ringside_sync::{Client, Session, SocketEvent, SyncError};
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info_span, warn, Instrument};

use crate::handle::Reply;

/// A worker's result, handled by the loop like any other input.
pub(crate) enum Done {
    SignedIn {
        result: Result<Session, SyncError>,
        password: Secret,
        reply: Option<Reply>,
    },
    /// An unattended sign-in met a transient failure and will try again.
    SignInRetrying(String),
    Reauthenticated(Result<Session, SyncError>),
    /// The session kept in the keyring, resumed (or refused) at start.
    Resumed(Result<Session, SyncError>),
    LoggedOutSent {
        reply: Reply,
    },
    StatusApplied {
        result: Result<AgentStatus, IpcError>,
        reply: Reply,
    },
    AgentStatus(AgentStatus),
    PauseReasons(Vec<PauseReason>),
    Dispositions(Vec<Disposition>),
    Contacts(Vec<ContactView>),
    ContactResolved {
        call_log_id: String,
        contact: ContactView,
    },
    Pbx {
        call_id: String,
        answer: PbxAnswer,
    },
    Delivered {
        batch: Vec<OutboxItem>,
        results: Vec<Result<(), SyncError>>,
    },
    Socket(SocketEvent),
    /// Demo mode: the backend (acting as the PBX's queue) offered a call for `number`, or
    /// refused to (`Err`: the agent is not available).
    /// The answer to [`Workers::probe`]: is the backend there?
    Probe(Result<AgentStatus, SyncError>),
    DemoQueueCall {
        number: String,
        result: Result<(), IpcError>,
        reply: Reply,
    },
}

#[derive(Clone)]
pub(crate) struct Workers {
    pub client: Arc<Client>,
    done: mpsc::UnboundedSender<Done>,
    stop: watch::Receiver<bool>,
}

impl Workers {
    pub fn new(
        client: Arc<Client>,
        done: mpsc::UnboundedSender<Done>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self { client, done, stop }
    }

    /// Where the agent socket posts its events.
    pub fn socket_events(&self) -> impl Fn(SocketEvent) + Send + Sync + 'static {
        let done = self.done.clone();
        move |event| {
            let _ = done.send(Done::Socket(event));
        }
    }

    fn spawn<F>(&self, job: F)
    where
        F: std::future::Future<Output = Option<Done>> + Send + 'static,
    {
        let done = self.done.clone();
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                out = job => {
                    if let Some(out) = out {
                        // The loop may have ended meanwhile: nothing is left to tell.
                        let _ = done.send(out);
                    }
                }
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }

    /// One attempt, for the sign-in screen.
    pub fn sign_in(&self, user: String, password: Secret, reply: Reply) {
        let client = self.client.clone();
        self.spawn(async move {
            let result = client.login(&user, &password).await;
            Some(Done::SignedIn {
                result,
                password,
                reply: Some(reply),
            })
        });
    }

    /// Unattended sign-in (demo mode, or a password in the environment): retried with
    /// backoff while the backend is unreachable.
    pub fn sign_in_until_answered(&self, user: String, password: Secret) {
        let client = self.client.clone();
        let done = self.done.clone();
        self.spawn(async move {
            let result = until_answered(&done, || client.login(&user, &password)).await;
            Some(Done::SignedIn {
                result,
                password,
                reply: None,
            })
        });
    }

    /// At start: trade the refresh token kept from the last run for a session, retried with
    /// backoff while the backend is unreachable.
    pub fn resume_session(&self) {
        let client = self.client.clone();
        let done = self.done.clone();
        self.spawn(async move {
            let result = until_answered(&done, || client.refresh()).await;
            Some(Done::Resumed(result))
        });
    }

    /// After a 401: trade the refresh token for a new session; with demo credentials, sign
    /// in again if that is refused.
    pub fn reauthenticate(&self, demo_login: Option<(String, Secret)>) {
        let client = self.client.clone();
        self.spawn(async move {
            let result = match client.refresh().await {
                Ok(s) => Ok(s),
                Err(e) => match &demo_login {
                    Some((user, pass)) => client.login(user, pass).await,
                    None => Err(e),
                },
            };
            Some(Done::Reauthenticated(result))
        });
    }

    /// Best effort: the agent leaves the queues before the session closes.
    pub fn log_out(&self, reply: Reply) {
        let client = self.client.clone();
        self.spawn(async move {
            let status = AgentStatus {
                state: AgentState::LoggedOut,
                reason: None,
            };
            let key = uuid::Uuid::new_v4().to_string();
            if let Err(e) = client.set_agent_status(&status, &key).await {
                warn!(error = %e, "logged-out status not sent");
            }
            Some(Done::LoggedOutSent { reply })
        });
    }

    /// A flaky network gets three tries under one idempotency key: the backend applies the
    /// change once.
    pub fn set_agent_status(&self, status: AgentStatus, reply: Reply) {
        let client = self.client.clone();
        self.spawn(async move {
            let key = uuid::Uuid::new_v4().to_string();
            let mut last = None;
            for attempt in 0..3u64 {
                match client.set_agent_status(&status, &key).await {
                    Ok(applied) => {
                        return Some(Done::StatusApplied {
                            result: Ok(applied),
                            reply,
                        })
                    }
                    Err(e) if e.is_transient() => {
                        last = Some(e);
                        tokio::time::sleep(Duration::from_millis(300 * (attempt + 1))).await;
                    }
                    Err(e) => {
                        return Some(Done::StatusApplied {
                            result: Err(IpcError::new(e.code(), e.to_string())),
                            reply,
                        })
                    }
                }
            }
            let msg = last.map(|e| e.to_string()).unwrap_or_default();
            Some(Done::StatusApplied {
                result: Err(IpcError::new(
                    "status_not_changed",
                    format!("Your status was not changed: the backend did not answer ({msg})."),
                )),
                reply,
            })
        });
    }

    /// One read whose answer goes straight to the loop. A failure is logged and posts
    /// nothing: the view keeps what it had, and the next sign-in or lookup reads again.
    fn fetch<T, Fut>(
        &self,
        what: &'static str,
        read: impl FnOnce(Arc<Client>) -> Fut,
        done: fn(T) -> Done,
    ) where
        T: Send + 'static,
        Fut: std::future::Future<Output = Result<T, SyncError>> + Send + 'static,
    {
        let answer = read(self.client.clone());
        self.spawn(async move {
            match answer.await {
                Ok(v) => Some(done(v)),
                Err(e) => {
                    warn!(error = %e, "{what} not fetched");
                    None
                }
            }
        });
    }

    pub fn fetch_agent_status(&self) {
        self.fetch(
            "agent status",
            |c| async move { c.agent_status().await },
            Done::AgentStatus,
        );
    }

    /// One cheap request to learn whether the backend answers (its answer, the agent's
    /// status, is news too). Failures are the point here, so they are posted, not logged.
    pub fn probe(&self) {
        let client = self.client.clone();
        self.spawn(async move { Some(Done::Probe(client.probe().await)) });
    }

    /// What the forms need after sign-in: pause reasons, dispositions, contacts.
    pub fn fetch_directory(&self) {
        self.fetch(
            "pause reasons",
            |c| async move { c.pause_reasons().await },
            Done::PauseReasons,
        );
        self.fetch(
            "dispositions",
            |c| async move { c.dispositions().await },
            Done::Dispositions,
        );
        self.fetch_contacts();
    }

    pub fn fetch_contacts(&self) {
        self.fetch(
            "contacts",
            |c| async move { c.contacts().await },
            Done::Contacts,
        );
    }

    pub fn resolve_contact(&self, call_log_id: String, phone: String) {
        let client = self.client.clone();
        let span = info_span!("resolve_contact", call_log_id = %call_log_id);
        self.spawn(
            async move {
                match tokio::time::timeout(Duration::from_secs(5), client.resolve_contact(&phone))
                    .await
                {
                    Ok(Ok(contact)) => Some(Done::ContactResolved {
                        call_log_id,
                        contact,
                    }),
                    Ok(Err(e)) => {
                        warn!(error = %e, "contact not resolved");
                        None
                    }
                    Err(_) => {
                        warn!("contact resolve timed out");
                        None
                    }
                }
            }
            .instrument(span),
        );
    }

    /// One attempt, now: a transfer is a live action, never queued for later. Whatever the
    /// backend answers goes back to the engine, which tells the agent.
    pub fn pbx_transfer(
        &self,
        call_id: String,
        yeastar_call_id: String,
        request: PbxTransferRequest,
    ) {
        let client = self.client.clone();
        let span = info_span!("call", call_id = %call_id);
        self.spawn(
            async move {
                let key = uuid::Uuid::new_v4().to_string();
                let answer = match client.transfer(&yeastar_call_id, &request, &key).await {
                    Ok(_) => PbxAnswer::Accepted,
                    Err(e) => {
                        // The backend's own code when it gave one (`call_gone`,
                        // `pbx_unreachable`, ...), else what kind of failure it was.
                        let (code, message) = match e {
                            SyncError::Rejected { code, message, .. }
                            | SyncError::Server { code, message, .. } => (code, message),
                            SyncError::Offline(m) => ("offline".to_string(), m),
                            other => (other.code().to_string(), other.to_string()),
                        };
                        PbxAnswer::Refused { code, message }
                    }
                };
                Some(Done::Pbx { call_id, answer })
            }
            .instrument(span),
        );
    }

    /// Sends one outbox batch; the loop settles the answers.
    pub fn deliver(&self, batch: Vec<OutboxItem>) {
        let client = self.client.clone();
        self.spawn(async move {
            let results = ringside_sync::send_batch(&client, &batch).await;
            Some(Done::Delivered { batch, results })
        });
    }

    /// Demo mode: as a PBX queue would, the backend pushes the queue details for the call.
    /// Demo mode: asks the backend's queue to offer a call for `caller` to this agent. Only a
    /// refusal stops the ring: an unreachable backend does not stop a PBX from ringing, so the
    /// call then rings without its queue details.
    pub fn push_demo_queue_call(&self, caller: String, reply: Reply) {
        let client = self.client.clone();
        self.spawn(async move {
            let result = match client.admin_post("/admin/queue-call", &json!({"caller": caller})).await {
                Ok(_) => Ok(()),
                Err(SyncError::Rejected { code, message, .. }) => Err(IpcError::new(
                    code,
                    format!("The queue did not offer you the call: {message}. Set your status to Available to receive queue calls."),
                )),
                Err(e) => {
                    debug!(error = %e, "demo queue info not pushed; the call rings without it");
                    Ok(())
                }
            };
            Some(Done::DemoQueueCall {
                number: caller,
                result,
                reply,
            })
        });
    }
}

/// Runs `attempt` until the backend answers (anything but a transient failure), saying each
/// retry to the loop (the header shows the backend as unreachable meanwhile).
async fn until_answered<T, F, Fut>(
    done: &mpsc::UnboundedSender<Done>,
    mut attempt: F,
) -> Result<T, SyncError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SyncError>>,
{
    let mut tries = 0u32;
    loop {
        match attempt().await {
            Err(e) if e.is_transient() => {
                let _ = done.send(Done::SignInRetrying(e.to_string()));
                tries = tries.saturating_add(1);
                let wait = ringside_sync::outbox::backoff_ms(tries.min(5), 0);
                tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(1000)))
                    .await;
            }
            result => return result,
        }
    }
}
