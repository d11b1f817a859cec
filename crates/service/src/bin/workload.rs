//! `ringside-workload`: the core process (engine + store + sync, no window) under a scripted
//! workload, for the crash test. It prints `created N` once call N's first record is committed
//! and `completed N` once its after-call draft is submitted; the test kills it at random.
//!
//! usage: ringside-workload --backend URL --profile DIR [--from N] [--drain-only]

#![allow(clippy::print_stdout)]

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use ringside_core::{CallDraft, Direction, RawPhoneEvent};
use ringside_service::Config;
use serde_json::json;

fn say(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut backend = None;
    let mut profile = None;
    let mut from = 0u64;
    let mut drain_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--backend" => backend = args.next(),
            "--profile" => profile = args.next().map(PathBuf::from),
            "--from" => from = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--drain-only" => drain_only = true,
            _ => {}
        }
    }
    let (Some(backend), Some(profile)) = (backend, profile) else {
        eprintln!("usage: ringside-workload --backend URL --profile DIR [--from N] [--drain-only]");
        std::process::exit(2);
    };
    let config = Config::headless_demo(&backend, profile);
    let svc = match ringside_service::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ringside-workload: {e}");
            std::process::exit(1);
        }
    };
    while svc
        .snapshot()
        .await
        .map_or(true, |s| s.engine.agent.is_none())
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if drain_only {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let Ok(snap) = svc.snapshot().await else {
                continue;
            };
            if snap.sync.pending == 0 && snap.sync.online {
                say("drained".into());
                return;
            }
        }
    }
    for i in from.. {
        let id = format!("[w-{i}]");
        let event = |name: &str| RawPhoneEvent::call(name, Direction::Inbound, "1001", &id).args;
        let _ = svc.phone_event("call".into(), event("setup")).await;
        say(format!("created {i}"));
        let _ = svc.phone_event("call".into(), event("ringing")).await;
        let _ = svc.phone_event("call".into(), event("connected")).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
        let _ = svc.phone_event("call".into(), event("disconnected")).await;
        let _ = svc
            .phone_event(
                "cdr".into(),
                vec![
                    json!("1001"),
                    json!("1002"),
                    json!("800"),
                    json!("2000"),
                    json!(2),
                    json!("1001"),
                    json!("Call terminated"),
                    json!(1),
                    json!(format!("w-{i}")),
                ],
            )
            .await;
        let call_log_id = ringside_core::call::call_log_id("1002", &format!("w-{i}"));
        let draft = CallDraft {
            call_log_id,
            notes: format!("note {i}"),
            ..CallDraft::default()
        };
        if svc.save_draft(draft.clone()).await.is_ok() && svc.submit_draft(draft).await.is_ok() {
            say(format!("completed {i}"));
        }
    }
}
