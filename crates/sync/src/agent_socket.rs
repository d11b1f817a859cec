//! The agent WebSocket (`/ws/agent`): agent status and queue info pushed by the backend,
//! `agent_info` sent by us.
//!
//! The connection is expected to drop (Wi-Fi, proxies, the backend restarting). The task
//! reconnects with exponential backoff and jitter, resets the backoff after every successful
//! connect, treats 45 s of silence as a dead connection, and re-sends the latest `agent_info`
//! each time it is connected again. The server sends the current status on connect, which is
//! what makes the status converge after a reconnect.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ringside_core::{AgentStatus, QueueInfo, Secret, TransferUpdate};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, warn};

/// The backend answers each ping with a pong: a socket silent past the limit is a backend
/// gone without closing it (a dead link, a hung server). Noticed at the first ping after the
/// limit (≤ 3 s), then confirmed by the service's REST probe (≤ 1.5 s): an outage is on the
/// agent's screen within 5 s. A ping a second is a few bytes per agent.
const PING_EVERY: Duration = Duration::from_secs(1);
const SILENCE_LIMIT: Duration = Duration::from_millis(2500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest frame the agent socket takes from the backend.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;

/// What the backend pushes, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    AgentStatus(AgentStatus),
    QueueInfo(QueueInfo),
    QueueCleared {
        yeastar_call_id: String,
    },
    /// Where a PBX transfer stands (docs/backend-api.md, "Transfers through the PBX").
    TransferUpdate(TransferUpdate),
    Ping,
    Pong,
    /// A type this version does not know: ignored, for forward compatibility.
    Other(String),
}

impl ServerFrame {
    /// Frames are untrusted: anything unusable is an error to log, never a panic.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let ty = v["type"].as_str().ok_or("no `type`")?;
        Ok(match ty {
            "agent_status" => ServerFrame::AgentStatus(
                serde_json::from_value(v.clone()).map_err(|e| format!("agent_status: {e}"))?,
            ),
            "call_queue_info" => {
                let q: QueueInfo = serde_json::from_value(v.clone())
                    .map_err(|e| format!("call_queue_info: {e}"))?;
                if q.yeastar_call_id.is_empty() {
                    return Err("call_queue_info without yeastar_call_id".into());
                }
                ServerFrame::QueueInfo(q)
            }
            "call_queue_cleared" => ServerFrame::QueueCleared {
                yeastar_call_id: v["yeastar_call_id"]
                    .as_str()
                    .ok_or("call_queue_cleared without yeastar_call_id")?
                    .to_string(),
            },
            "transfer_update" => {
                let u: TransferUpdate = serde_json::from_value(v.clone())
                    .map_err(|e| format!("transfer_update: {e}"))?;
                if u.yeastar_call_id.is_empty() {
                    return Err("transfer_update without yeastar_call_id".into());
                }
                ServerFrame::TransferUpdate(u)
            }
            "ping" => ServerFrame::Ping,
            "pong" => ServerFrame::Pong,
            other => ServerFrame::Other(other.to_string()),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    Connected,
    Disconnected { reason: String, unauthorized: bool },
    Frame(ServerFrame),
}

/// A handle on the running socket task. Dropping it stops the task.
#[derive(Debug)]
pub struct AgentSocket {
    out: mpsc::UnboundedSender<Value>,
    latest_info: Arc<Mutex<Option<Value>>>,
    stop: watch::Sender<bool>,
}

impl Drop for AgentSocket {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Reconnect delay after `attempt` failures: the outbox's rule, with the clock's nanoseconds
/// as the jitter seed (sockets have no record to derive one from).
fn backoff(attempt: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let ms = crate::outbox::backoff_ms(attempt, i64::from(nanos));
    Duration::from_millis(u64::try_from(ms).unwrap_or(30_000))
}

impl AgentSocket {
    /// Starts the socket task on `runtime`. `token` is asked before every connect, so a
    /// refreshed token is used on the next attempt.
    pub fn spawn(
        runtime: &tokio::runtime::Handle,
        url: String,
        token: impl Fn() -> Option<Secret> + Send + Sync + 'static,
        on_event: impl Fn(SocketEvent) + Send + Sync + 'static,
    ) -> Self {
        crate::install_crypto_provider();
        let (out, mut rx) = mpsc::unbounded_channel::<Value>();
        let (stop, mut stopped) = watch::channel(false);
        let latest_info: Arc<Mutex<Option<Value>>> = Arc::default();
        let latest = latest_info.clone();
        runtime.spawn(async move {
            let mut attempt = 0u32;
            loop {
                let outcome = tokio::select! {
                    r = connect_and_run(&url, token(), &latest, &mut rx, &on_event) => r,
                    _ = stopped.changed() => return,
                };
                match outcome {
                    Ok(reason) => {
                        attempt = 0;
                        on_event(SocketEvent::Disconnected {
                            reason,
                            unauthorized: false,
                        });
                    }
                    Err((reason, unauthorized)) => {
                        attempt = attempt.saturating_add(1);
                        on_event(SocketEvent::Disconnected {
                            reason,
                            unauthorized,
                        });
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff(attempt)) => {}
                    _ = stopped.changed() => return,
                }
            }
        });
        Self {
            out,
            latest_info,
            stop,
        }
    }

    /// Sends now if connected, and again after every reconnect until replaced.
    pub fn send_agent_info(&self, info: Value) {
        if let Ok(mut l) = self.latest_info.lock() {
            *l = Some(info.clone());
        }
        let _ = self.out.send(info);
    }
}

/// One connection's life. `Ok(reason)` after a connection that was up, `Err` when it never
/// came up (with whether the backend said 401).
async fn connect_and_run(
    url: &str,
    token: Option<Secret>,
    latest: &Mutex<Option<Value>>,
    rx: &mut mpsc::UnboundedReceiver<Value>,
    on_event: &(impl Fn(SocketEvent) + Send + Sync),
) -> Result<String, (String, bool)> {
    let mut request = url
        .into_client_request()
        .map_err(|e| (format!("bad WebSocket URL: {e}"), false))?;
    if let Some(t) = token {
        let value = HeaderValue::from_str(&format!("Bearer {}", t.0))
            .map_err(|_| ("token is not a valid header".to_string(), false))?;
        request.headers_mut().insert("authorization", value);
    }
    // The backend's frames are small (a status, a queue call): a frame or message past this
    // is a broken or hostile server, and must not make the app buffer without end.
    let limits = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let (ws, _) = match tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(limits),
            false,
            Some(tokio_tungstenite::Connector::Rustls(
                crate::tls::client_config(),
            )),
        ),
    )
    .await
    {
        Err(_) => return Err(("connect timed out".into(), false)),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp))) => {
            let unauthorized = resp.status().as_u16() == 401;
            return Err((format!("upgrade refused: {}", resp.status()), unauthorized));
        }
        Ok(Err(e)) => return Err((e.to_string(), false)),
        Ok(Ok(ok)) => ok,
    };
    info!("agent socket connected");
    on_event(SocketEvent::Connected);
    let (mut tx, mut stream) = ws.split();
    // Drop what was queued while offline: only the latest agent_info matters, sent below.
    while rx.try_recv().is_ok() {}
    let latest_info = latest.lock().ok().and_then(|l| l.clone());
    if let Some(info) = latest_info {
        if tx
            .send(Message::Text(info.to_string().into()))
            .await
            .is_err()
        {
            return Ok("send failed".into());
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    last_heard = tokio::time::Instant::now();
                    match ServerFrame::parse(text.as_str()) {
                        Ok(ServerFrame::Ping) => {
                            if tx.send(Message::Text(json!({"type": "pong"}).to_string().into())).await.is_err() {
                                return Ok("send failed".into());
                            }
                        }
                        Ok(frame) => on_event(SocketEvent::Frame(frame)),
                        Err(e) => warn!(error = %e, "unusable frame from the backend ignored"),
                    }
                }
                Some(Ok(Message::Close(_))) | None => return Ok("closed by the backend".into()),
                Some(Err(e)) => return Ok(e.to_string()),
                Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
            },
            out = rx.recv() => match out {
                Some(v) => {
                    if tx.send(Message::Text(v.to_string().into())).await.is_err() {
                        return Ok("send failed".into());
                    }
                }
                None => return Ok("socket handle dropped".into()),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    debug!("agent socket silent for too long");
                    return Ok(format!("no frame for {} ms", SILENCE_LIMIT.as_millis()));
                }
                if tx.send(Message::Text(json!({"type": "ping"}).to_string().into())).await.is_err() {
                    return Ok("send failed".into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_core::AgentState;

    #[test]
    fn frames_parse_or_fail_cleanly() {
        assert_eq!(
            ServerFrame::parse(r#"{"type":"agent_status","state":"paused","reason":"Lunch"}"#)
                .unwrap(),
            ServerFrame::AgentStatus(AgentStatus {
                state: AgentState::Paused,
                reason: Some("Lunch".into())
            })
        );
        assert!(ServerFrame::parse(r#"{"type": "agent_sta"#).is_err());
        assert!(ServerFrame::parse(r#"{"type":"agent_status","state":"dancing"}"#).is_err());
        assert!(ServerFrame::parse(r#"{"type":"call_queue_info"}"#).is_err());
        assert_eq!(
            ServerFrame::parse(r#"{"type":"new_thing"}"#).unwrap(),
            ServerFrame::Other("new_thing".into())
        );
        let q = ServerFrame::parse(
            r#"{"type":"call_queue_info","yeastar_call_id":"1.2","queue_name":"Support","queue_number":"6402","server_call_log_token":"t","channel_id":"PJSIP/1002-1","caller":"1001"}"#,
        )
        .unwrap();
        assert!(matches!(q, ServerFrame::QueueInfo(ref q) if q.channel_id == "PJSIP/1002-1"));
    }

    #[test]
    fn backoff_is_bounded() {
        assert!(backoff(0) >= Duration::from_millis(500));
        assert!(backoff(0) <= Duration::from_millis(626));
        assert!(backoff(20) <= Duration::from_millis(37_501));
    }
}
