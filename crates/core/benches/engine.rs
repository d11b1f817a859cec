//! Engine throughput: webphone callbacks handled per second (no IO at all).
//!
//! `cargo bench -p ringside-core --bench engine`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringside_core::{Agent, Clock, Direction, Engine, Input, RawPhoneEvent};
use serde_json::json;

const CALLS: usize = 200;
/// Events per call below: setup, ringing, connected, trying, muted, unmuted, disconnected, cdr.
const EVENTS_PER_CALL: usize = 8;

fn events() -> Vec<RawPhoneEvent> {
    let mut out = Vec::with_capacity(CALLS * EVENTS_PER_CALL);
    for i in 0..CALLS {
        let id = format!("[{i:08x}-a01b-388f-646d-1b085ce9aa7b]");
        let bare = id.trim_matches(['[', ']']).to_string();
        let call = |name: &str| RawPhoneEvent::call(name, Direction::Inbound, "1001", &id);
        out.push(call("setup"));
        out.push(call("ringing"));
        out.push(call("connected"));
        out.push(call("trying"));
        out.push(RawPhoneEvent::new(
            "call",
            vec![
                json!("muted"),
                json!(""),
                json!(""),
                json!(""),
                json!(1),
                json!(""),
            ],
        ));
        out.push(RawPhoneEvent::new(
            "call",
            vec![
                json!("unmuted"),
                json!(""),
                json!(""),
                json!(""),
                json!(1),
                json!(""),
            ],
        ));
        out.push(call("disconnected"));
        out.push(RawPhoneEvent::new(
            "cdr",
            vec![
                json!("1001"),
                json!("1002"),
                json!("1540"),
                json!("3087"),
                json!(2),
                json!("1001"),
                json!("Call terminated"),
                json!(1),
                json!(bare),
            ],
        ));
    }
    out
}

fn signed_in() -> Engine {
    let mut e = Engine::new();
    let _ = e.handle(
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
    );
    e
}

fn bench(c: &mut Criterion) {
    let evs = events();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.bench_function("handle_call_lifecycles", |b| {
        b.iter_batched(
            || (signed_in(), evs.clone()),
            |(mut engine, evs)| {
                for (i, ev) in evs.into_iter().enumerate() {
                    let clock = Clock {
                        mono_ms: i as u64 * 400,
                        wall_ms: i as i64 * 400,
                    };
                    let _ = engine.handle(Input::Phone(ev), clock);
                }
                engine
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
