//! The reference backend binary, started as IT or a test would start it, answers the contract
//! of docs/backend-api.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{json, Value};

#[tokio::test]
async fn the_binary_answers_the_contract() {
    let server = common::start(&[]);
    let url = &server.url;
    let http = reqwest::Client::new();

    // 401 without a token, with the error body.
    let r = http
        .get(format!("{url}/api/call-logs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");

    // Wrong password: 401 bad_credentials. demo/demo: a session.
    let (status, _) = common::login(url, "demo", "nope").await;
    assert_eq!(status, 401);
    let (_, login) = common::login(url, "demo", "demo").await;
    let token = login["token"].as_str().unwrap().to_string();
    assert_eq!(login["agent"]["extension_number"], "1002");
    assert!(login["refresh_token"].is_string());
    assert!(login["sip"]["password"].is_string());

    // Contact resolve: created once, found after.
    let first: Value = http
        .post(format!("{url}/api/contacts/resolve"))
        .bearer_auth(&token)
        .json(&json!({"phone": "+4930111222"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again: Value = http
        .post(format!("{url}/api/contacts/resolve"))
        .bearer_auth(&token)
        .json(&json!({"phone": "+4930111222"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["created"], true);
    assert_eq!(again["created"], false);
    assert_eq!(first["contact"]["id"], again["contact"]["id"]);

    // Call-log create: the same key twice is one record, the second answer a replay.
    let log = json!({"id": "l-1", "call_id": "c-1", "direction": "inbound", "status": "ringing",
                     "talk_seconds": 0, "from": "1001", "to": "1002", "peer": "1001", "started_at_ms": 1});
    let post = |key: &str| {
        http.post(format!("{url}/api/call-logs"))
            .bearer_auth(&token)
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
    let logs: Value = http
        .get(format!("{url}/api/call-logs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logs.as_array().unwrap().len(), 1);

    // Writes without a key, garbage and invalid bodies.
    let r = http
        .post(format!("{url}/api/call-logs"))
        .bearer_auth(&token)
        .json(&log)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "idempotency_key_required"
    );
    let r = http
        .post(format!("{url}/api/call-logs"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "k-3")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "bad_json");
    let mut bad = log.clone();
    bad["status"] = json!("exploded");
    let r = http
        .post(format!("{url}/api/call-logs"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "k-4")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid");
    let r = http
        .post(format!("{url}/api/contacts/resolve"))
        .bearer_auth(&token)
        .json(&json!({"phone": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // Pause reasons and a pause with an unknown reason.
    let reasons: Value = http
        .get(format!("{url}/api/agent/pause-reasons"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reasons[0], json!({"code": "*01", "reason": "Lunch"}));
    let r = http
        .put(format!("{url}/api/agent/status"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "s-1")
        .json(&json!({"state": "paused", "reason": "Nap"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http
        .put(format!("{url}/api/agent/status"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "s-2")
        .json(&json!({"state": "paused", "reason": "*02"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["reason"], "Break");

    // Refresh tokens work once.
    let refresh = login["refresh_token"].as_str().unwrap();
    let r = http
        .post(format!("{url}/api/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{url}/api/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Unknown routes answer in the error model too.
    let r = http.get(format!("{url}/api/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_found");
}
