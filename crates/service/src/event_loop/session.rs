//! The session with the backend: signing in (by the agent or unattended), what follows it,
//! renewing it when the backend refuses the token, and the agent socket's events.

use ringside_core::{
    AgentStatus, Input, IpcError, PbxTransferState, PhoneCommand, Secret, SessionState,
};
use ringside_sync::{AgentSocket, ServerFrame, Session, SocketEvent, SyncError};
use tracing::{debug, info, warn};

use super::Core;
use crate::WebphoneSource;

impl Core {
    /// Demo mode signs in by itself; live mode waits for the sign-in screen unless an
    /// unattended run gives a password in the environment.
    pub(super) fn sign_in_unattended(&mut self) {
        let password = std::env::var("RINGSIDE_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        let username = self.session.username.clone();
        let password = match (self.demo, password) {
            (true, p) => Secret(p.unwrap_or_else(|| "demo".into())),
            (false, Some(p)) if !username.is_empty() => Secret(p),
            _ => {
                // The session kept in the keyring from the last run, if any.
                if let Some(token) = self.kept_session.take() {
                    info!("resuming the kept session");
                    self.workers.client.set_refresh_token(Some(token));
                    self.session.state = SessionState::SigningIn;
                    self.workers.resume_session();
                }
                return;
            }
        };
        self.session.state = SessionState::SigningIn;
        self.workers.sign_in_until_answered(username, password);
    }

    pub(super) fn sign_in_error(&self, e: &SyncError) -> IpcError {
        sign_in_error(e, self.workers.client.base_url())
    }

    /// Everything that follows a successful sign-in, whoever started it.
    pub(super) fn on_signed_in(&mut self, session: Session, password: &Secret) {
        self.ws_url.clone_from(&session.ws_url);
        self.extension.clone_from(&session.agent.extension);
        if let Some(j) = &mut self.journal {
            j.set_secrets(vec![
                session.sip.password.0.clone(),
                session.token.0.clone(),
                password.0.clone(),
            ]);
        }
        self.session.state = SessionState::SignedIn;
        self.session.error = None;
        // The webphone's frame may reach only IT's servers: a PBX the backend names outside
        // that list would register forever without a word. Said now, plainly.
        if !crate::config::connect_allowed(
            &self.config.webphone_connect,
            &session.sip.websocket_url,
        ) {
            warn!(server = %session.sip.websocket_url, "the phone server is not in webphone_connect");
            self.notice = Some(IpcError::new(
                "webphone_server_not_allowed",
                format!(
                    "The phone server {} is not among the servers your IT department allows the webphone to reach (webphone_connect). Calls cannot work until they add it.",
                    session.sip.websocket_url
                ),
            ));
        }
        if let Err(e) = self.store.set_setting("username", &self.session.username) {
            warn!(error = %e, "username not remembered");
        }
        self.keep_session();
        self.set_online(true, None);
        self.workers.fetch_directory();
        self.handle_logged(Input::SessionStarted {
            agent: session.agent,
            sip: Some(session.sip),
        });
        self.drain_paused_until = 0;
        self.drain();
    }

    /// The current refresh token to the keyring, for the next start.
    pub(super) fn keep_session(&mut self) {
        if let (Some(v), Some(token)) = (&self.vault, self.workers.client.refresh_token()) {
            if let Some(j) = &mut self.journal {
                j.add_secret(token.0.clone());
            }
            v.save(
                &crate::vault::account(&self.session.backend_url, &self.session.username),
                token,
            );
        }
    }

    /// Signed out, or the kept session refused: the keyring forgets it.
    pub(super) fn forget_session(&mut self) {
        if let Some(v) = &self.vault {
            v.forget(&crate::vault::account(
                &self.session.backend_url,
                &self.session.username,
            ));
        }
    }

    pub(super) fn set_online(&mut self, online: bool, error: Option<String>) {
        self.sync.online = online;
        if error.is_some() || online {
            self.sync.last_error = error;
        }
    }

    /// Asks the backend whether it is there, unless a probe is out already or nobody is
    /// signed in. See [`Core::on_probe`].
    pub(super) fn probe_backend(&mut self) {
        if self.probing || self.session.state != SessionState::SignedIn {
            return;
        }
        self.probing = true;
        self.workers.probe();
    }

    /// The backend answered a probe, or did not: the header says so at once, and a backend
    /// that is back gets the outbox's waiting writes now, not after the retry backoff.
    pub(super) fn on_probe(&mut self, result: Result<AgentStatus, SyncError>) {
        self.probing = false;
        match result {
            Ok(status) => {
                if !self.sync.online {
                    info!("backend reachable again");
                    self.set_online(true, None);
                    if let Err(e) = self.store.outbox_wake() {
                        warn!(error = %e, "outbox not woken");
                    }
                    self.drain_paused_until = 0;
                    self.drain();
                }
                self.handle_logged(Input::AgentStatus(status));
            }
            Err(SyncError::Unauthorized) => self.reauthenticate(),
            Err(e) if e.is_transient() => {
                if self.sync.online {
                    warn!(error = %e, "backend unreachable");
                }
                self.set_online(false, Some(e.to_string()));
            }
            // Any other answer is an answer: the backend is there.
            Err(e) => {
                debug!(error = %e, "probe answered with an error");
                self.set_online(true, None);
            }
        }
    }

    pub(super) fn reauthenticate(&mut self) {
        if self.session.state != SessionState::SignedIn || self.reauthenticating {
            return;
        }
        self.reauthenticating = true;
        self.workers.reauthenticate(self.demo_login.clone());
    }

    pub(super) fn on_socket_event(&mut self, event: SocketEvent) {
        match event {
            SocketEvent::Connected => {
                self.sync.agent_socket = true;
                // The socket is the backend too: it is back.
                self.probe_backend();
            }
            SocketEvent::Disconnected {
                reason,
                unauthorized,
            } => {
                debug!(%reason, "agent socket down");
                self.sync.agent_socket = false;
                if unauthorized {
                    self.reauthenticate();
                } else {
                    // A closed or silent socket is the first sign of an outage: ask the REST
                    // API now rather than wait for the next write to fail.
                    self.probe_backend();
                }
            }
            SocketEvent::Frame(ServerFrame::AgentStatus(status)) => {
                self.handle_logged(Input::AgentStatus(status));
            }
            SocketEvent::Frame(ServerFrame::QueueInfo(q)) => {
                self.handle_logged(Input::QueueInfo(q))
            }
            SocketEvent::Frame(ServerFrame::QueueCleared { yeastar_call_id }) => {
                self.handle_logged(Input::QueueCleared { yeastar_call_id });
            }
            SocketEvent::Frame(ServerFrame::TransferUpdate(update)) => {
                let completed = update.state == PbxTransferState::Completed;
                let leg = self
                    .engine
                    .call_for_pbx(&update.yeastar_call_id)
                    .map(str::to_string);
                self.handle_logged(Input::TransferUpdate(update));
                if completed && self.config.webphone == WebphoneSource::Simulator {
                    if let Some(call_id) = leg {
                        // A real PBX ends the agent's leg (BYE) once it has moved the caller.
                        // The simulator's calls never reach the reference backend's PBX, so
                        // this stands in for that BYE.
                        self.send_phone(PhoneCommand::SimRemoteHangup {
                            call_id: Some(call_id),
                        });
                    }
                }
            }
            SocketEvent::Frame(_) => {}
        }
    }

    pub(super) fn open_agent_socket(&mut self) {
        if self.ws_url.is_empty() {
            return;
        }
        let client = self.workers.client.clone();
        self.agent_socket = Some(AgentSocket::spawn(
            &tokio::runtime::Handle::current(),
            self.ws_url.clone(),
            move || client.token(),
            self.workers.socket_events(),
        ));
    }
}

/// What the sign-in screen says when the backend at `url` does not let the agent in: what is
/// wrong, in words that point at the fix (the password, the network, or the address).
fn sign_in_error(e: &SyncError, url: &str) -> IpcError {
    match e {
        SyncError::Unauthorized | SyncError::Rejected { status: 401, .. } => {
            IpcError::new("bad_credentials", "Wrong username or password.")
        }
        // Reached, but its certificate is not one this computer trusts (a private CA, a
        // TLS-inspecting proxy): IT's to fix, and nothing like a network outage.
        SyncError::Offline(why) if why.contains("certificate") => IpcError::new(
            "backend_certificate_untrusted",
            format!(
                "The backend at {url} answered with a certificate this computer does not trust. Ask IT to install its CA, or to name it in Ringside's policy (extra_ca_file)."
            ),
        ),
        SyncError::RateLimited { retry_after_ms } => IpcError::new(
            "too_many_attempts",
            format!(
                "Too many sign-in attempts: the backend will take the next one in {} s.",
                retry_after_ms.div_ceil(1000).max(1)
            ),
        ),
        SyncError::Offline(_) => IpcError::new(
            "backend_unreachable",
            format!(
                "Cannot reach the backend at {url}. Check the network, or ask IT whether the address is right."
            ),
        ),
        // Something answered, but not a Ringside backend: a web server, a proxy's page.
        SyncError::Rejected { status: 404 | 405, .. } | SyncError::BadResponse(_) => {
            IpcError::new(
                "not_a_ringside_backend",
                format!(
                    "{url} answered, but it is not a Ringside backend (it has no sign-in). Ask IT for the right address."
                ),
            )
        }
        SyncError::Rejected {
            status: 300..=399, ..
        } => IpcError::new(
            "backend_redirects",
            format!(
                "{url} sends Ringside to another address, and Ringside does not follow with your password. Ask IT for the backend's own address."
            ),
        ),
        SyncError::BadUrl(_) | SyncError::Untrusted(_) => IpcError::new(e.code(), e.to_string()),
        other => IpcError::new(other.code(), format!("Sign-in failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_errors_say_what_is_wrong() {
        let url = "https://crm.example.com";
        let code = |e: SyncError| sign_in_error(&e, url).code;
        assert_eq!(code(SyncError::Unauthorized), "bad_credentials");
        assert_eq!(
            code(SyncError::Offline("refused".into())),
            "backend_unreachable"
        );
        let untrusted = sign_in_error(
            &SyncError::Offline(
                "error sending request: invalid peer certificate: UnknownIssuer".into(),
            ),
            url,
        );
        assert_eq!(untrusted.code, "backend_certificate_untrusted");
        assert!(
            untrusted.message.contains("extra_ca_file"),
            "{}",
            untrusted.message
        );
        let held = sign_in_error(
            &SyncError::RateLimited {
                retry_after_ms: 299_000,
            },
            url,
        );
        assert_eq!(held.code, "too_many_attempts");
        assert!(held.message.contains("299 s"), "{}", held.message);
        let not_ours = sign_in_error(
            &SyncError::Rejected {
                status: 404,
                code: "unknown".into(),
                message: String::new(),
            },
            url,
        );
        assert_eq!(not_ours.code, "not_a_ringside_backend");
        assert!(not_ours.message.contains(url), "{}", not_ours.message);
        assert_eq!(
            code(SyncError::BadResponse("<html>".into())),
            "not_a_ringside_backend"
        );
        assert_eq!(code(SyncError::BadUrl("crm".into())), "backend_url_invalid");
        let moved = SyncError::Rejected {
            status: 307,
            code: "unknown".into(),
            message: String::new(),
        };
        assert_eq!(code(moved), "backend_redirects");
    }
}
