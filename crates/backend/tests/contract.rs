//! The reference backend binary, started as IT or a test would start it, answers the contract
//! of docs/backend-api.md. One test per route or route group, each on its own backend and
//! database, so that one broken route does not hide the others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use serde_json::{json, Value};

/// A call log as the app sends it on `POST /api/call-logs`.
fn call_log() -> Value {
    json!({"id": "l-1", "call_id": "c-1", "direction": "inbound", "status": "ringing",
           "talk_seconds": 0, "from": "1001", "to": "1002", "peer": "1001", "started_at_ms": 1})
}

#[tokio::test]
async fn a_request_without_a_token_is_401_with_the_error_body() {
    let server = common::start(&[]);
    let r = common::http()
        .get(format!("{}/api/call-logs", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");
}

#[tokio::test]
async fn login_rejects_a_wrong_password_and_opens_a_session() {
    // Wrong password: 401 bad_credentials. demo/demo: a session.
    let server = common::start(&[]);
    let (status, _) = common::login(&server.url, "demo", "nope").await;
    assert_eq!(status, 401);
    let s = common::sign_in(server).await;
    assert_eq!(s.session["agent"]["extension_number"], "1002");
    assert!(s.session["refresh_token"].is_string());
    assert!(s.session["sip"]["password"].is_string());
}

#[tokio::test]
async fn a_refresh_token_works_once() {
    let s = common::signed_in().await;
    let refresh = s.session["refresh_token"].as_str().unwrap();
    let r = s
        .http
        .post(format!("{}/api/auth/refresh", s.url()))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .http
        .post(format!("{}/api/auth/refresh", s.url()))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn contact_resolve_creates_once_and_finds_after() {
    let s = common::signed_in().await;
    let resolve = || async {
        s.post("/api/contacts/resolve")
            .json(&json!({"phone": "+4930111222"}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let first = resolve().await;
    let again = resolve().await;
    assert_eq!(first["created"], true);
    assert_eq!(again["created"], false);
    assert_eq!(first["contact"]["id"], again["contact"]["id"]);
}

#[tokio::test]
async fn contact_resolve_rejects_an_invalid_body() {
    let s = common::signed_in().await;
    let r = s
        .post("/api/contacts/resolve")
        .json(&json!({"phone": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn call_log_create_is_one_record_per_id_and_a_replay_per_key() {
    // The same key twice is one record, the second answer a replay.
    let s = common::signed_in().await;
    let log = call_log();
    let post = |key: &str| {
        s.post("/api/call-logs")
            .header("Idempotency-Key", key)
            .json(&log)
            .send()
    };
    let r1 = post("k-1").await.unwrap();
    assert_eq!(r1.status(), 201);
    let r2 = post("k-1").await.unwrap();
    assert_eq!(r2.status(), 201);
    assert_eq!(r2.headers()["idempotent-replay"], "true");
    let r3 = post("k-2").await.unwrap();
    assert_eq!(
        r3.status(),
        409,
        "a new key for an existing id is a conflict, not a second record"
    );
    let logs: Value = s
        .get("/api/call-logs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logs.as_array().unwrap().len(), 1);
}

/// A key is bound to the request it first came with: the same key with another body or on
/// another route is refused, never answered with the first request's result (which would make
/// a client believe a write landed that never did).
#[tokio::test]
async fn an_idempotency_key_is_bound_to_its_route_and_body() {
    let s = common::signed_in().await;
    let log = call_log();
    let r = s
        .post("/api/call-logs")
        .header("Idempotency-Key", "bound-1")
        .json(&log)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let mut changed = log.clone();
    changed["status"] = json!("missed");
    let id = log["id"].as_str().unwrap().to_string();
    // Same key, same route, another body.
    let r = s
        .post("/api/call-logs")
        .header("Idempotency-Key", "bound-1")
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "idempotency_key_reused");
    // Same key on another route (the update of that log), same body.
    let r = s
        .request(reqwest::Method::PATCH, &format!("/api/call-logs/{id}"))
        .header("Idempotency-Key", "bound-1")
        .json(&log)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Nothing changed, and the first request still replays.
    let logs: Value = s
        .get("/api/call-logs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logs[0]["status"], log["status"], "{logs}");
    let r = s
        .post("/api/call-logs")
        .header("Idempotency-Key", "bound-1")
        .json(&log)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replay"], "true");
}

#[tokio::test]
async fn call_log_writes_need_a_key_and_a_valid_body() {
    // As in the app: the record exists already, and a bad write of it is rejected for what
    // is wrong with the request, not answered as a conflict.
    let s = common::signed_in().await;
    let log = call_log();
    let r = s
        .post("/api/call-logs")
        .header("Idempotency-Key", "k-1")
        .json(&log)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Without a key.
    let r = s.post("/api/call-logs").json(&log).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "idempotency_key_required"
    );
    // Garbage.
    let r = s
        .post("/api/call-logs")
        .header("Idempotency-Key", "k-3")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "bad_json");
    // An invalid body.
    let mut bad = log.clone();
    bad["status"] = json!("exploded");
    let r = s
        .post("/api/call-logs")
        .header("Idempotency-Key", "k-4")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid");
}

#[tokio::test]
async fn pause_reasons_are_listed() {
    let s = common::signed_in().await;
    let reasons = s.get_json("/api/agent/pause-reasons").await;
    assert_eq!(
        reasons[0],
        json!({"code": "*01", "reason": "Lunch", "labels": {"fr": "Déjeuner"}})
    );
    let dispositions = s.get_json("/api/call-dispositions").await;
    assert_eq!(
        dispositions[1],
        json!({"code": "callback", "label": "Callback needed", "labels": {"fr": "À rappeler"}})
    );
}

#[tokio::test]
async fn queue_calls_are_offered_to_available_agents_only() {
    let s = common::signed_in().await;
    let http = common::http();
    let offer = || {
        http.post(format!("{}/admin/queue-call", s.url()))
            .bearer_auth(common::ADMIN_TOKEN)
            .json(&json!({"caller": "94424722"}))
            .send()
    };
    // Seeded agents start available, as after logging in to their queues.
    assert_eq!(offer().await.unwrap().status(), 200);
    for (state, reason) in [("paused", json!("Lunch")), ("logged_out", json!(null))] {
        let r = s
            .put("/api/agent/status")
            .header("Idempotency-Key", format!("s-{state}"))
            .json(&json!({"state": state, "reason": reason}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = offer().await.unwrap();
        assert_eq!(r.status(), 409, "{state}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "agent_not_available");
        assert!(body["message"].as_str().unwrap().contains(state), "{body}");
    }
}

#[tokio::test]
async fn a_stricter_backend_refuses_long_notes_with_its_reason() {
    let s = common::signed_in().await;
    let r = s
        .post("/api/call-logs")
        .header("Idempotency-Key", "l")
        .json(&call_log())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let put = |key: &'static str, notes: String| {
        s.put("/api/call-drafts/l-1")
            .header("Idempotency-Key", key)
            .json(&json!({"call_log_id": "l-1", "notes": notes}))
            .send()
    };
    let r = put("d-1", "x".repeat(64 * 1024 + 1)).await.unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "notes are limited to 64 KiB");
    common::http()
        .put(format!("{}/admin/faults", s.url()))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&json!({"notes_max_bytes": 10}))
        .send()
        .await
        .unwrap();
    let r = put("d-2", "eleven char".into()).await.unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "notes are limited to 10 bytes");
    assert_eq!(put("d-3", "ten chars!".into()).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_pause_needs_a_known_reason() {
    // An unknown reason is refused; a known code answers with its reason.
    let s = common::signed_in().await;
    let r = s
        .put("/api/agent/status")
        .header("Idempotency-Key", "s-1")
        .json(&json!({"state": "paused", "reason": "Nap"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = s
        .put("/api/agent/status")
        .header("Idempotency-Key", "s-2")
        .json(&json!({"state": "paused", "reason": "*02"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["reason"], "Break");
}

#[tokio::test]
async fn an_unknown_route_answers_in_the_error_model() {
    let server = common::start(&[]);
    let r = common::http()
        .get(format!("{}/api/nope", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_found");
}

/// The agent socket's address comes from the server's configuration, never from the `Host`
/// header a client sends (which would let anyone send an agent's token elsewhere).
#[tokio::test]
async fn ws_url_is_the_configured_one_whatever_the_host_header_says() {
    // The demo agent's sign-in, with a Host header of the client's choosing.
    let ws_url = |url: String| async move {
        let r: Value = common::http()
            .post(format!("{url}/api/auth/login"))
            .header("Host", "evil.example")
            .json(&json!({"username": "demo", "password": "demo"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["ws_url"].clone()
    };
    let server = common::start(&["--public-url", "https://crm.example.com/"]);
    assert_eq!(
        ws_url(server.url.clone()).await,
        "wss://crm.example.com/ws/agent"
    );
    let plain = common::start(&[]);
    let expected = format!("{}/ws/agent", plain.url.replacen("http", "ws", 1));
    assert_eq!(ws_url(plain.url.clone()).await, json!(expected));
}

/// The socket's token goes in the `Authorization` header only: a token in the URL would be
/// written to every proxy's access log.
#[tokio::test]
async fn the_agent_socket_takes_its_token_from_the_header_only() {
    let s = common::signed_in().await;
    assert!(common::Ws::open(s.url(), &s.token, false).await.is_ok());
    let in_url = common::Ws::open(s.url(), &s.token, true).await;
    assert!(in_url.unwrap_err().contains("401"));
}

/// `refuse` cannot leave the server unreachable for good: no request, the admin reset
/// included, gets through while it is on, so it ends by itself.
#[tokio::test]
async fn refusing_connections_ends_by_itself() {
    let s = common::signed_in().await;
    // Its own answer is cut too: the connection it came on is refused at once.
    let _ = common::http()
        .put(format!("{}/admin/faults", s.url()))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&json!({"refuse": true, "refuse_for_ms": 700}))
        .send()
        .await;
    common::tls();
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    assert!(fresh()
        .get(format!("{}/api/health", s.url()))
        .send()
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(900)).await;
    let r = fresh()
        .get(format!("{}/api/health", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Guessing is slowed: five failed sign-ins for one username hold it (whatever the password,
/// the right one included) with `429 too_many_attempts` and a `Retry-After`.
#[tokio::test]
async fn repeated_failed_sign_ins_are_held_back() {
    let server = common::start(&[]);
    for _ in 0..5 {
        let (status, body) = common::login(&server.url, "demo", "guess").await;
        assert_eq!(status, 401, "{body}");
    }
    let r = common::http()
        .post(format!("{}/api/auth/login", server.url))
        .json(&json!({"username": "demo", "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "too_many_attempts");
}

/// A copy of the database gives no password and no session: passwords are argon2 hashes,
/// tokens SHA-256 digests.
#[tokio::test]
async fn passwords_and_tokens_are_stored_hashed() {
    let s = common::signed_in().await;
    let db = rusqlite::Connection::open(s.server.db_path()).unwrap();
    let password: String = db
        .query_row(
            "SELECT password FROM agents WHERE username = 'demo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(password.starts_with("$argon2id$"), "{password}");
    let tokens: Vec<String> = db
        .prepare("SELECT token FROM tokens UNION ALL SELECT token FROM refresh_tokens")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(
        !tokens.contains(&s.token),
        "the bearer token itself is not stored"
    );
    assert!(tokens.iter().all(|t| t.len() == 64), "{tokens:?}");
    // And the token still works.
    let r = s.get("/api/agent/status").send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// The admin routes (faults, simulated calls) exist only when the server was given an admin
/// token, and answer only that token: an agent's token, or none, gets nothing.
#[tokio::test]
async fn admin_routes_need_the_admin_token_and_exist_only_with_one() {
    let s = common::signed_in().await;
    let faults = |token: Option<&str>| {
        let mut r = common::http().get(format!("{}/admin/faults", s.url()));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(
        faults(Some(common::ADMIN_TOKEN)).await.unwrap().status(),
        200
    );
    let r = faults(None).await.unwrap();
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "admin_unauthorized");
    assert_eq!(faults(Some(&s.token)).await.unwrap().status(), 401);

    let bare = common::start_bare(&[]);
    let r = common::http()
        .get(format!("{}/admin/faults", bare.url))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The API itself is unaffected.
    let (status, _) = common::login(&bare.url, "demo", "demo").await;
    assert_eq!(status, 200);
}
