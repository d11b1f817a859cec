//! Seed case walk-through from the agent's side: an inbound call, answered, ended, with
//! after-call notes, checked on screen, in the local SQLite file and on the backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringside_e2e::{eventually, work_dir, App, Backend};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_call_answered_with_notes_reaches_the_backend() {
    let dir = work_dir("inbound_call");
    let backend = Backend::start(&dir).await;
    let app = App::launch(&backend, dir.join("profile")).await;

    app.wait_text("#registration", |t| t == "Phone ready").await;
    app.wait_text("#agent-name", |t| t.contains("1002")).await;
    app.screenshot("01-idle").await;

    app.click("#sim-incoming").await;
    app.wait_text(".call-card[data-status=ringing] .contact-name", |t| {
        t == "Diego Alvarez"
    })
    .await;
    app.screenshot("02-ringing").await;

    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    app.wait_text(".call-card[data-status=talking] .talk-timer", |t| {
        t == "0:02"
    })
    .await;
    app.screenshot("03-talking").await;

    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    app.type_into(".wrap-up .draft-notes", "Wants a callback on Friday")
        .await;
    app.wait_text(".wrap-up .save-state", |t| t == "Saved on this computer")
        .await;
    app.screenshot("04-after-call").await;

    // Saved in the profile's SQLite file as the agent typed, before any submit.
    let db = rusqlite::Connection::open(app.profile.join("ringside.db")).unwrap();
    let notes: String = db
        .query_row("SELECT body FROM drafts", [], |r| r.get::<_, String>(0))
        .map(|b| {
            serde_json::from_str::<Value>(&b).unwrap()["notes"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .unwrap();
    assert_eq!(notes, "Wants a callback on Friday");

    app.click(".wrap-up [data-action=submit-draft]").await;
    app.wait_text(".recent-call[data-status=answered] .who", |t| {
        t == "Diego Alvarez"
    })
    .await;

    let logs = eventually(10, "the answered call log on the backend", || async {
        let logs = backend.get("/api/call-logs").await;
        let arr = logs.as_array().cloned().unwrap_or_default();
        (arr.len() == 1 && arr[0]["status"] == "answered").then_some(arr)
    })
    .await;
    let log = &logs[0];
    assert_eq!(log["direction"], "inbound");
    assert_eq!(log["from"], "+15550100");
    assert_eq!(log["to"], "1002");
    assert_eq!(log["contact_id"], "ct-4");
    assert!(log["talk_seconds"].as_u64().unwrap() >= 1, "{log}");

    let drafts = eventually(10, "the draft on the backend", || async {
        let d = backend.get("/api/call-drafts").await;
        let arr = d.as_array().cloned().unwrap_or_default();
        (arr.len() == 1).then_some(arr)
    })
    .await;
    assert_eq!(drafts[0]["notes"], "Wants a callback on Friday");
    assert_eq!(drafts[0]["call_log_id"], log["id"]);

    app.close().await;
}
