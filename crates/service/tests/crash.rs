//! SIGKILL at random points: the core process (engine + store + sync) runs a scripted
//! workload and is killed 50 times; after each restart nothing committed is lost, and at the
//! end the backend holds every call exactly once, with its draft.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ringside_core::call::call_log_id;
use ringside_core::Secret;
use ringside_sync::Client;

const KILLS: usize = 50;

/// xorshift64: reproducible kill points from a printed seed, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn run(
    backend: &str,
    profile: &std::path::Path,
    from: u64,
    drain_only: bool,
) -> (std::process::Child, Arc<Mutex<Vec<String>>>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ringside-workload"));
    cmd.args(["--backend", backend, "--profile"])
        .arg(profile)
        .args(["--from", &from.to_string()]);
    if drain_only {
        cmd.arg("--drain-only");
    }
    let mut child = cmd
        .env("RINGSIDE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_committed_is_lost_and_nothing_is_duplicated_across_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let backend = ringside_backend::spawn_embedded(&dir.path().join("backend.db"))
        .await
        .unwrap();
    let url = backend.base_url();
    let profile = dir.path().join("profile");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);

    let mut created: BTreeSet<u64> = BTreeSet::new();
    let mut completed: BTreeSet<u64> = BTreeSet::new();
    let mut next = 0u64;
    let mut killed_with_work = 0;
    for _ in 0..KILLS {
        let (mut child, lines) = run(&url, &profile, next, false);
        let life = Duration::from_millis(60 + rng.next() % 440);
        std::thread::sleep(life);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let before = created.len();
        for line in lines.lock().unwrap().iter() {
            let mut parts = line.split_whitespace();
            match (
                parts.next(),
                parts.next().and_then(|n| n.parse::<u64>().ok()),
            ) {
                (Some("created"), Some(n)) => {
                    created.insert(n);
                }
                (Some("completed"), Some(n)) => {
                    completed.insert(n);
                }
                _ => {}
            }
        }
        if created.len() > before {
            killed_with_work += 1;
        }
        next = created.iter().next_back().map_or(0, |n| n + 1);
    }
    assert!(
        killed_with_work >= KILLS / 2,
        "most runs must have got to work before the kill"
    );

    // A last run only delivers what is pending.
    let (mut child, lines) = run(&url, &profile, next, true);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lines.lock().unwrap().iter().any(|l| l == "drained") {
        assert!(Instant::now() < deadline, "the outbox never drained");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let client = Client::new(&url).unwrap();
    client.login("demo", &Secret("demo".into())).await.unwrap();
    let logs = client.call_logs().await.unwrap();
    let mut by_call: HashMap<String, serde_json::Value> = HashMap::new();
    for l in &logs {
        let call_id = l["call_id"].as_str().unwrap().to_string();
        assert!(
            by_call.insert(call_id.clone(), l.clone()).is_none(),
            "duplicate record for {call_id}"
        );
    }
    for n in &created {
        let log = by_call
            .get(&format!("w-{n}"))
            .unwrap_or_else(|| panic!("committed call w-{n} lost"));
        let status = log["status"].as_str().unwrap();
        assert!(
            ["answered", "missed"].contains(&status),
            "w-{n} left {status}"
        );
    }
    for n in &completed {
        assert_eq!(by_call[&format!("w-{n}")]["status"], "answered", "w-{n}");
    }
    let drafts = reqwest::Client::new()
        .get(format!("{url}/api/call-drafts"))
        .bearer_auth(client.token().unwrap().0)
        .send()
        .await
        .unwrap()
        .json::<Vec<serde_json::Value>>()
        .await
        .unwrap();
    let draft_ids: HashSet<String> = drafts
        .iter()
        .map(|d| d["call_log_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(draft_ids.len(), drafts.len(), "duplicate drafts");
    for n in &completed {
        let id = call_log_id("1002", &format!("w-{n}"));
        let d = drafts
            .iter()
            .find(|d| d["call_log_id"] == id.as_str())
            .unwrap_or_else(|| panic!("draft of w-{n} lost"));
        assert_eq!(d["notes"], format!("note {n}"));
    }
    eprintln!(
        "crash test: {KILLS} SIGKILLs, {} calls committed, {} completed with drafts, {} backend records",
        created.len(),
        completed.len(),
        logs.len()
    );
    assert!(
        completed.len() >= 20,
        "the workload made too little progress to mean anything"
    );
}
