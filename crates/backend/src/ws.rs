//! `/ws/agent`: the agent's live channel. The server pushes the agent's status (at once on
//! connect, so a client converges after every reconnect), queue info for the agent's current
//! call, and pings; the client reports its registration (`agent_info`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tracing::{debug, info, warn};

use crate::api::AppState;
use crate::db::{self, AgentRow};

const PING_EVERY: Duration = Duration::from_secs(15);

/// One frame for one agent's sockets.
#[derive(Debug, Clone)]
pub struct Push {
    pub agent_id: String,
    pub frame: Value,
}

/// Fan-out to every open agent socket, plus what agents last reported.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Push>,
    agent_info: Arc<Mutex<HashMap<String, Value>>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
            agent_info: Arc::default(),
        }
    }
}

impl Hub {
    pub fn push(&self, agent_id: &str, frame: Value) {
        // No receiver is fine: the agent is not connected and will get its status on connect.
        let _ = self.tx.send(Push {
            agent_id: agent_id.to_string(),
            frame,
        });
    }

    pub fn agent_info(&self) -> HashMap<String, Value> {
        self.agent_info
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

pub fn status_frame(agent: &AgentRow) -> Value {
    json!({"type": "agent_status", "state": agent.state, "reason": agent.reason})
}

pub async fn ws_agent(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    match crate::api::agent(&state, &headers) {
        Ok(agent) => ws.on_upgrade(move |socket| session(state, agent, socket)),
        Err(e) => e.into_response(),
    }
}

async fn send(
    state: &AppState,
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    frame: &Value,
) -> bool {
    let text = if state.faults.should_malform_frame() {
        "{\"type\": \"agent_sta".to_string()
    } else {
        frame.to_string()
    };
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn session(state: AppState, agent: AgentRow, socket: WebSocket) {
    info!(agent = %agent.id, "agent socket open");
    let (mut tx, mut rx) = socket.split();
    // Subscribed first, then the status read: a change made between the upgrade request (when
    // `agent` was read) and now would otherwise be neither in the first frame nor pushed, and
    // the client would keep a stale status until the next change.
    let mut pushes = state.hub.tx.subscribe();
    let current = state
        .with_db(|c| db::agent_by_id(c, &agent.id))
        .ok()
        .flatten()
        .unwrap_or_else(|| agent.clone());
    if !send(&state, &mut tx, &status_frame(&current)).await {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let drop_after = state.faults.ws_drop_after();
    let drop_at = tokio::time::Instant::now()
        + Duration::from_millis(if drop_after > 0 {
            drop_after
        } else {
            u64::MAX / 4
        });
    loop {
        tokio::select! {
            msg = rx.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                        warn!(agent = %agent.id, "malformed frame from client ignored");
                        continue;
                    };
                    let reply = match v["type"].as_str() {
                        Some("ping") => Some(json!({"type": "pong"})),
                        Some("agent_info") => {
                            debug!(agent = %agent.id, info = %v, "agent info");
                            if let Ok(mut m) = state.hub.agent_info.lock() {
                                m.insert(agent.id.clone(), v);
                            }
                            None
                        }
                        _ => None,
                    };
                    if let Some(r) = reply {
                        if !send(&state, &mut tx, &r).await { break; }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            push = pushes.recv() => match push {
                Ok(p) if p.agent_id == agent.id => {
                    if !send(&state, &mut tx, &p.frame).await { break; }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Missed pushes: the current status is what matters.
                    let fresh = state.with_db(|c| db::agent_by_id(c, &agent.id)).ok().flatten();
                    if let Some(a) = fresh {
                        if !send(&state, &mut tx, &status_frame(&a)).await { break; }
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = ping.tick() => {
                if !send(&state, &mut tx, &json!({"type": "ping"})).await { break; }
            }
            _ = tokio::time::sleep_until(drop_at) => {
                info!(agent = %agent.id, "agent socket dropped (fault switch)");
                let _ = tx.send(Message::Close(None)).await;
                break;
            }
        }
    }
    info!(agent = %agent.id, "agent socket closed");
}
