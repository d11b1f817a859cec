//! Latency and throughput figures for the notes (not assertions):
//! - callback → committed to SQLite (engine + store), p50/p99, and the engine's share of it;
//! - callback → acknowledged by the reference backend over loopback, p50/p99;
//! - 10,000 queued writes drained after reconnect, next to the backend's raw write rate.
//!
//! `cargo bench -p ringside-service --bench latency`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use ringside_backend::faults::FaultSettings;
use ringside_core::{Agent, Clock, Direction, Effect, Engine, Input, RawPhoneEvent, Secret};
use ringside_store::Store;
use ringside_sync::{drain, Client};
use serde_json::json;

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn signed_in() -> Engine {
    let mut e = Engine::new();
    e.handle(
        Input::SessionStarted {
            agent: Agent {
                id: "a".into(),
                name: "A".into(),
                extension_id: "12".into(),
                extension: "1002".into(),
            },
            sip: None,
        },
        Clock::default(),
    )
    .unwrap();
    e
}

fn events(i: usize) -> Vec<RawPhoneEvent> {
    let id = format!("[bench-{i}]");
    let call = |n: &str| RawPhoneEvent::call(n, Direction::Inbound, "1001", &id);
    vec![
        call("setup"),
        call("connected"),
        call("disconnected"),
        RawPhoneEvent::new(
            "cdr",
            vec![
                json!("1001"),
                json!("1002"),
                json!("900"),
                json!("3500"),
                json!(2),
                json!("1001"),
                json!("x"),
                json!(1),
                json!(format!("bench-{i}")),
            ],
        ),
    ]
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn commit(
    engine: &mut Engine,
    store: &mut Store,
    ev: RawPhoneEvent,
    t: u64,
) -> (Duration, Duration) {
    let start = Instant::now();
    let fx = engine
        .handle(
            Input::Phone(ev),
            Clock {
                mono_ms: t,
                wall_ms: t as i64,
            },
        )
        .unwrap_or_default();
    let engine_time = start.elapsed();
    for e in fx {
        if let Effect::SaveCallLog { log, op } = e {
            store.save_call_log(&log, op, t as i64).unwrap();
        }
    }
    (engine_time, start.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();

    // 1. callback -> committed row.
    let (mut store, _) = Store::open(&dir.path().join("commit.db"), 0).unwrap();
    let mut engine = signed_in();
    let (mut eng, mut total) = (Vec::new(), Vec::new());
    let mut t = 0u64;
    for i in 0..2000 {
        for ev in events(i) {
            t += 700;
            let (e, all) = commit(&mut engine, &mut store, ev, t);
            eng.push(e);
            total.push(all);
        }
    }
    let engine_sum: Duration = eng.iter().sum();
    let total_sum: Duration = total.iter().sum();
    println!(
        "callback -> committed row (SQLite WAL, synchronous=FULL, {} callbacks): p50 {:?}  p99 {:?}  (engine p50 {:?} p99 {:?}; engine share of total time {:.1} %)",
        total.len(),
        pct(&mut total, 0.50),
        pct(&mut total, 0.99),
        pct(&mut eng, 0.50),
        pct(&mut eng, 0.99),
        100.0 * engine_sum.as_secs_f64() / total_sum.as_secs_f64()
    );

    // 2. callback -> acknowledged by the backend over loopback.
    let backend = ringside_backend::spawn_embedded(&dir.path().join("backend.db"))
        .await
        .unwrap();
    let client = Client::new(&backend.base_url()).unwrap();
    client.login("demo", &Secret("demo".into())).await.unwrap();
    let (mut store2, _) = Store::open(&dir.path().join("ack.db"), 0).unwrap();
    let mut engine = signed_in();
    let mut acked = Vec::new();
    for i in 0..500 {
        for ev in events(100_000 + i) {
            t += 700;
            let start = Instant::now();
            commit(&mut engine, &mut store2, ev, t);
            drain(&mut store2, &client, now_ms).await.unwrap();
            acked.push(start.elapsed());
        }
    }
    println!(
        "callback -> acknowledged by the reference backend on loopback ({} callbacks): p50 {:?}  p99 {:?}",
        acked.len(),
        pct(&mut acked, 0.50),
        pct(&mut acked, 0.99)
    );

    // 3. drain of 10,000 queued writes after reconnect vs the backend's raw write rate.
    let backend = ringside_backend::spawn_embedded(&dir.path().join("backend3.db"))
        .await
        .unwrap();
    let client = Client::new(&backend.base_url()).unwrap();
    let session = client.login("demo", &Secret("demo".into())).await.unwrap();
    let (mut s3, _) = Store::open(&dir.path().join("drain.db"), 0).unwrap();
    backend.faults.set(FaultSettings {
        refuse: true,
        ..Default::default()
    });
    let mut engine = signed_in();
    for i in 0..10_000 {
        let ev = events(200_000 + i).remove(0);
        t += 10;
        commit(&mut engine, &mut s3, ev, t);
    }
    assert_eq!(s3.pending_count().unwrap(), 10_000);
    backend.faults.set(FaultSettings::default());
    let start = Instant::now();
    let report = drain(&mut s3, &client, now_ms).await.unwrap();
    let drain_time = start.elapsed();
    assert_eq!(report.sent, 10_000, "{report:?}");
    let drain_rate = 10_000.0 / drain_time.as_secs_f64();

    let http = reqwest::Client::new();
    let log = {
        let ev = events(0).remove(0);
        let mut e = signed_in();
        match e
            .handle(Input::Phone(ev), Clock::default())
            .unwrap()
            .remove(0)
        {
            Effect::SaveCallLog { log, .. } => log,
            _ => unreachable!(),
        }
    };
    let start = Instant::now();
    for i in 0..10_000 {
        let mut body = serde_json::to_value(&log).unwrap();
        body["id"] = json!(format!("raw-{i}"));
        let r = http
            .post(format!("{}/api/call-logs", backend.base_url()))
            .bearer_auth(&session.token.0)
            .header("Idempotency-Key", format!("raw-{i}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let raw_rate = 10_000.0 / start.elapsed().as_secs_f64();
    println!(
        "drain of 10,000 queued writes after reconnect: {drain_rate:.0}/s ({drain_time:?}); backend raw write rate, same run, one client: {raw_rate:.0}/s; ratio {:.2}",
        drain_rate / raw_rate
    );
}
