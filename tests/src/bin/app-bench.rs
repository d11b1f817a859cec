//! # The whole-app bench (`cargo xtask bench` runs it)
//!
//! Drives release builds of the real app under Xvfb, through the same WebDriver harness as the
//! end-to-end tests, and prints one table per scenario:
//! - `footprint`: Ringside in demo mode (its in-process backend) and a bare Tauri app of the
//!   same Tauri version (`bench/bare`), alternating, `--runs` times each: launch → interactive
//!   (bare: its first command answered; Ringside: the first render showing the phone
//!   registered), then RSS and PSS of every process 15 s after launch;
//! - `soak`: `--calls` calls through the app (simulated incoming call, answered, hung up, notes
//!   typed into after-call work, submitted), every process's PSS, the time per call, and the
//!   database and journal sizes every 100 calls;
//! - `burst`: `--bursts` bursts of 2,000 webphone callbacks reported in the webphone's iframe
//!   through the bridge, one call's four per task, the tasks back to back, while the agent's window renders: the main (GTK) thread's longest stall
//!   (from the app's `RINGSIDE_MAIN_THREAD_PROBE`) and core snapshot → rendered lag;
//! - the UI lag of the soak (agent pace) and of the bursts: p50/p99/max.
//!
//! Inputs: `RINGSIDE_APP_BIN` (required), `RINGSIDE_BARE_BIN` (for `footprint`),
//! `RINGSIDE_BENCH_DIR` (profiles and `results.json`; default `./bench-work`), and
//! `--page FILE` to write the Markdown page (with SVG plots next to it) and `--core FILE` to
//! include the engine/store benches' output in it.
//!
//! Figures are reported, never asserted: this binary fails only when the app cannot be driven.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ringside_e2e::{exe_name, App, Session};
use serde_json::{json, Value};

const PROBE_ENV: &str = "RINGSIDE_MAIN_THREAD_PROBE";
const SETTLE: Duration = Duration::from_secs(15);
const CALLBACKS_PER_BURST: usize = 2000;
const DEFAULT_SCENARIOS: &[&str] = &["footprint", "soak", "burst", "throttle"];

struct Opts {
    scenarios: Vec<String>,
    runs: usize,
    calls: usize,
    every: usize,
    bursts: usize,
    page: Option<PathBuf>,
    core: Option<PathBuf>,
    label: String,
    webdriver: bool,
    throttle_minutes: u64,
    trim: bool,
}

fn opts() -> Opts {
    let mut o = Opts {
        scenarios: DEFAULT_SCENARIOS.iter().map(|s| s.to_string()).collect(),
        runs: 3,
        calls: 1000,
        every: 100,
        bursts: 3,
        page: None,
        core: None,
        label: "Ringside".into(),
        webdriver: false,
        throttle_minutes: 10,
        trim: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    let num = |v: Option<&String>, what: &str| -> usize {
        v.and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{what} needs a number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => o.runs = num(it.next(), "--runs"),
            "--calls" => o.calls = num(it.next(), "--calls"),
            "--every" => o.every = num(it.next(), "--every").max(1),
            "--bursts" => o.bursts = num(it.next(), "--bursts"),
            "--page" => o.page = it.next().map(PathBuf::from),
            "--core" => o.core = it.next().map(PathBuf::from),
            "--label" => o.label = it.next().cloned().unwrap_or_default(),
            "--webdriver" => o.webdriver = true,
            "--trim" => o.trim = true,
            "--throttle-minutes" => o.throttle_minutes = num(it.next(), "--throttle-minutes") as u64,
            s if !s.starts_with('-') => {
                if o.scenarios == DEFAULT_SCENARIOS {
                    o.scenarios.clear();
                }
                o.scenarios.push(s.to_string());
            }
            other => panic!(
                "unknown argument {other}: app-bench [footprint] [soak] [burst] [throttle] [--throttle-minutes N] [--runs N] [--calls N] [--every N] [--bursts N] [--page FILE] [--core FILE] [--label NAME] [--trim]"
            ),
        }
    }
    o
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default()
}

fn work() -> PathBuf {
    let dir = std::env::var_os("RINGSIDE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("bench-work"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

fn fresh(name: &str) -> PathBuf {
    let dir = work().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------------
// Processes

/// One process of the measured app, memory in KiB.
#[derive(Debug, Clone)]
struct Proc {
    pid: u32,
    role: String,
    rss: u64,
    pss: u64,
    /// PSS (KiB) by kind of mapping (`/proc/<pid>/smaps`): where a process's growth lives.
    kinds: BTreeMap<String, u64>,
}

/// A mapping's kind, from its path in `smaps`: the allocator's anonymous memory, the
/// process heap, shared-memory buffers (WebKit's are memfds), libraries, other files.
fn mapping_kind(path: &str) -> String {
    match path {
        "" => "anonymous".into(),
        "[heap]" => "[heap]".into(),
        p if p.starts_with("[stack") => "stack".into(),
        p if p.starts_with('[') => p.into(),
        p if p.starts_with("/memfd:") => format!(
            "memfd:{}",
            p.trim_start_matches("/memfd:")
                .split([' ', '('])
                .next()
                .unwrap_or("")
        ),
        p if p.starts_with("/dev/shm") => "/dev/shm".into(),
        p if p.contains(".so") => "libraries".into(),
        _ => "other files".into(),
    }
}

fn pss_by_kind(pid: u32) -> BTreeMap<String, u64> {
    let mut kinds = BTreeMap::new();
    let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
        return kinds;
    };
    let mut kind = String::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            // `addr perms offset dev inode [path]`; the path may hold spaces.
            let path = line
                .splitn(6, char::is_whitespace)
                .nth(5)
                .unwrap_or("")
                .trim();
            kind = mapping_kind(path);
        } else if first == "Pss:" {
            let kib: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            *kinds.entry(kind.clone()).or_insert(0) += kib;
        }
    }
    kinds
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`; comm may hold spaces or parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn descendants(root: u32) -> Vec<u32> {
    let all: Vec<u32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(all.iter().copied().filter(|&c| parent(c) == Some(p)));
        i += 1;
    }
    out
}

fn kib(rollup: &str, field: &str) -> u64 {
    rollup
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The app (the process running `app_exe`) and everything it started, by role: `app`,
/// `network`, `web 1`, `web 2`, ... (web processes in start order: the first window's first).
fn app_processes(driver_pid: u32, app_exe: &Path) -> Vec<Proc> {
    let app_name = app_exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(app_pid) = descendants(driver_pid)
        .into_iter()
        .find(|&p| exe_name(p) == app_name)
    else {
        return Vec::new();
    };
    let mut pids = descendants(app_pid);
    pids.sort_unstable();
    let mut web = 0;
    pids.into_iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let role = match exe_name(pid).as_str() {
                n if n == app_name => "app".to_string(),
                "WebKitNetworkProcess" => "network".to_string(),
                "WebKitWebProcess" => {
                    web += 1;
                    format!("web {web}")
                }
                other => other.to_string(),
            };
            Some(Proc {
                pid,
                role,
                rss: kib(&rollup, "Rss:"),
                pss: kib(&rollup, "Pss:"),
                kinds: pss_by_kind(pid),
            })
        })
        .collect()
}

/// How much of each process's PSS is memory the C allocator holds free: `malloc_trim(0)` run
/// in each process through gdb, then PSS again. Growth that a trim gives back is fragmentation or
/// retained free memory, not live data. Diagnostic only (`--trim`): the processes are paused
/// while gdb is attached.
fn trim_heaps(app: &App, app_exe: &Path, before: &[Proc]) -> String {
    if output_of(Command::new("gdb").arg("--version")).is_none() {
        return "\n- `--trim`: gdb is not installed; not measured".into();
    }
    for p in before {
        let _ = output_of(Command::new("gdb").args([
            "-p",
            &p.pid.to_string(),
            "-batch",
            "-ex",
            "call (int) malloc_trim(0)",
        ]));
    }
    std::thread::sleep(Duration::from_secs(2));
    let after = app_processes(app.driver_pid(), app_exe);
    let parts: Vec<String> = before
        .iter()
        .filter_map(|b| {
            let a = after.iter().find(|a| a.pid == b.pid)?;
            let heap = |p: &Proc| mib(p.kinds.get("[heap]").copied().unwrap_or(0));
            Some(format!(
                "{} {:.1} → {:.1} MiB ([heap] {:.1} → {:.1})",
                b.role,
                mib(b.pss),
                mib(a.pss),
                heap(b),
                heap(a)
            ))
        })
        .collect();
    let line = format!(
        "\n- after `malloc_trim(0)` in each process at the end (`--trim`, through gdb): {}",
        parts.join(", ")
    );
    println!("{line}");
    line
}

fn output_of(cmd: &mut Command) -> Option<String> {
    let out = cmd.stdin(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn total(procs: &[Proc], f: impl Fn(&Proc) -> u64) -> u64 {
    procs.iter().map(f).sum()
}

fn dir_bytes(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| dir_bytes(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// min / median / max of a few runs.
fn mmm(v: &[f64]) -> (f64, f64, f64) {
    let s = sorted(v.to_vec());
    (
        s.first().copied().unwrap_or(f64::NAN),
        pct(&s, 0.5),
        s.last().copied().unwrap_or(f64::NAN),
    )
}

fn lag_stats(samples: &[f64]) -> Value {
    let s = sorted(samples.to_vec());
    json!({
        "n": s.len(),
        "p50_ms": pct(&s, 0.5),
        "p99_ms": pct(&s, 0.99),
        "max_ms": s.last().copied().unwrap_or(f64::NAN),
    })
}

// ---------------------------------------------------------------------------------------------
// Driving the apps

async fn poll_number(client: &fantoccini::Client, expr: &str, secs: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = client
            .execute(&format!("return {expr} || null;"), vec![])
            .await
            .unwrap_or(Value::Null);
        if let Some(n) = v.as_f64() {
            return n;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {expr}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Takes (and clears) the core → screen lags the agent's window recorded.
async fn take_lag(app: &App) -> Vec<f64> {
    app.client
        .execute(
            "var a = window.ringsideLag || []; window.ringsideLag = []; return a;",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_f64)
        .collect()
}

struct Launched {
    launch_ms: f64,
    /// Ringside: its first render of the core's state (the phone may still be registering).
    first_render_ms: f64,
    procs: Vec<Proc>,
}

/// Waits until `SETTLE` after `t0` (Unix ms), then samples the app's processes.
async fn settled_processes(t0: f64, driver_pid: u32, bin: &Path) -> Vec<Proc> {
    let elapsed = Duration::from_secs_f64(((now_ms() - t0) / 1000.0).max(0.0));
    tokio::time::sleep(SETTLE.saturating_sub(elapsed)).await;
    app_processes(driver_pid, bin)
}

async fn launch_bare(bin: &Path, run: usize) -> Launched {
    let dir = fresh(&format!("bare-{run}"));
    let t0 = now_ms();
    let session = Session::start(bin, &dir, |_| {}).await;
    let ready = poll_number(&session.client, "window.bareReady", 60).await;
    let procs = settled_processes(t0, session.driver_pid(), bin).await;
    session.stop().await;
    Launched {
        launch_ms: ready - t0,
        first_render_ms: f64::NAN,
        procs,
    }
}

async fn launch_ringside(bin: &Path, run: usize) -> Launched {
    let profile = fresh(&format!("ringside-{run}"));
    let t0 = now_ms();
    let app = App::launch_embedded(profile, &[]).await;
    let ready = poll_number(&app.client, "window.ringsideInteractive", 60).await;
    let first = poll_number(&app.client, "window.ringsideFirstRender", 5).await;
    let procs = settled_processes(t0, app.driver_pid(), bin).await;
    app.close().await;
    Launched {
        launch_ms: ready - t0,
        first_render_ms: first - t0,
        procs,
    }
}

/// Every process role seen in these samples, in first-seen order.
fn roles<'a>(samples: impl IntoIterator<Item = &'a [Proc]>) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for procs in samples {
        for p in procs {
            if !roles.contains(&p.role) {
                roles.push(p.role.clone());
            }
        }
    }
    roles
}

fn role_kib(run: &Launched, role: &str, f: impl Fn(&Proc) -> u64) -> u64 {
    run.procs.iter().filter(|p| p.role == role).map(f).sum()
}

async fn footprint(o: &Opts, ringside: &Path, out: &mut Value, page: &mut String) {
    let bare = PathBuf::from(
        std::env::var_os("RINGSIDE_BARE_BIN")
            .expect("RINGSIDE_BARE_BIN (cargo xtask bench sets it)"),
    );
    let (mut b, mut r) = (Vec::new(), Vec::new());
    for run in 0..o.runs {
        // Alternating, so that a slow minute on the machine hits both.
        b.push(launch_bare(&bare, run).await);
        r.push(launch_ringside(ringside, run).await);
        println!(
            "footprint run {}: bare {:.0} ms {:.1} MiB PSS; ringside {:.0} ms {:.1} MiB PSS",
            run + 1,
            b[run].launch_ms,
            mib(total(&b[run].procs, |p| p.pss)),
            r[run].launch_ms,
            mib(total(&r[run].procs, |p| p.pss)),
        );
    }
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| app | process | RSS MiB (min / median / max) | PSS MiB (min / median / max) |\n|---|---|---|---|"
    );
    let mut json_apps = serde_json::Map::new();
    for (name, runs) in [("bare Tauri", &b), (o.label.as_str(), &r)] {
        let mut per_role = serde_json::Map::new();
        let mut rows: Vec<(String, Vec<f64>, Vec<f64>)> =
            roles(runs.iter().map(|r| r.procs.as_slice()))
                .into_iter()
                .map(|role| {
                    let rss = runs
                        .iter()
                        .map(|x| mib(role_kib(x, &role, |p| p.rss)))
                        .collect();
                    let pss = runs
                        .iter()
                        .map(|x| mib(role_kib(x, &role, |p| p.pss)))
                        .collect();
                    (role, rss, pss)
                })
                .collect();
        rows.push((
            "**total**".into(),
            runs.iter()
                .map(|x| mib(total(&x.procs, |p| p.rss)))
                .collect(),
            runs.iter()
                .map(|x| mib(total(&x.procs, |p| p.pss)))
                .collect(),
        ));
        for (role, rss, pss) in rows {
            let (a, m, z) = mmm(&rss);
            let (pa, pm, pz) = mmm(&pss);
            let _ = writeln!(
                table,
                "| {name} | {role} | {a:.1} / {m:.1} / {z:.1} | {pa:.1} / {pm:.1} / {pz:.1} |"
            );
            per_role.insert(role, json!({"rss_mib": rss, "pss_mib": pss}));
        }
        let launch: Vec<f64> = runs.iter().map(|x| x.launch_ms).collect();
        per_role.insert("launch_ms".into(), json!(launch));
        json_apps.insert(name.to_string(), Value::Object(per_role));
    }
    let pss_of = |runs: &[Launched]| {
        mmm(&runs
            .iter()
            .map(|x| mib(total(&x.procs, |p| p.pss)))
            .collect::<Vec<_>>())
        .1
    };
    let launch_of = |runs: &[Launched]| mmm(&runs.iter().map(|x| x.launch_ms).collect::<Vec<_>>());
    let (pss_ratio, (bl0, bl, bl1), (rl0, rl, rl1)) =
        (pss_of(&r) / pss_of(&b), launch_of(&b), launch_of(&r));
    let launch_ratio = rl / bl;
    let (fr0, fr, fr1) = mmm(&r.iter().map(|x| x.first_render_ms).collect::<Vec<_>>());
    let _ = writeln!(
        table,
        "\n| launch → interactive | min / median / max |\n|---|---|\n| bare Tauri (first command answered) | {bl0:.0} / {bl:.0} / {bl1:.0} ms |\n| {} (phone registered, rendered) | {rl0:.0} / {rl:.0} / {rl1:.0} ms |\n| {} (first render of the core's state) | {fr0:.0} / {fr:.0} / {fr1:.0} ms |\n",
        o.label, o.label
    );
    let _ = writeln!(
        table,
        "- **total PSS {} / bare: {pss_ratio:.2}×** (target ≤ 1.3×: {})\n- **launch → interactive {} / bare: {launch_ratio:.2}×** (target ≤ 1.2×: {})",
        o.label,
        verdict(pss_ratio <= 1.3),
        o.label,
        verdict(launch_ratio <= 1.2)
    );
    println!("\n{table}");
    page.push_str(&format!(
        "## Idle footprint and launch\n\n{} runs of each, alternating; memory 15 s after launch. `web 1` is the first window's web process (Ringside: the agent's window, with the webphone's iframe in it since issue 14; before, the webphone had a window and a `web 2` of its own). Ringside's `app` process includes demo mode's in-process backend. Ringside's \"phone registered\" includes the webphone library's own start: `started` 1.2 s after `start()`, then registration, as recorded from the real library and reproduced by the simulator.\n\n{table}\n",
        o.runs
    ));
    out["footprint"] = json!({
        "apps": json_apps,
        "pss_ratio": pss_ratio,
        "launch_ratio": launch_ratio,
        "first_render_ms": [fr0, fr, fr1],
    });
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// Calls as an agent handles them, played inside the agent's window: clicks on the same
/// buttons, the notes typed one key at a time (an `input` event per character, as a keyboard
/// gives), one script per block of calls. Not through WebDriver's element commands:
/// WebKitWebDriver keeps every element it has returned alive for the session, and each of its
/// commands costs the page too, so a WebDriver-driven soak measures WebDriver's growth.
const CALLS_SCRIPT: &str = r##"
var done = arguments[arguments.length - 1];
var first = arguments[0], count = arguments[1];
function el(sel) {
  return new Promise(function (resolve, reject) {
    var deadline = Date.now() + 20000;
    (function look() {
      var e = document.querySelector(sel);
      if (e) return resolve(e);
      if (Date.now() > deadline) return reject(new Error("no " + sel));
      setTimeout(look, 5);
    })();
  });
}
function seen(sel) {
  return !!document.querySelector(sel);
}
function until(test, ms) {
  return new Promise(function (resolve) {
    var end = Date.now() + ms;
    (function look() {
      if (test()) return resolve(true);
      if (Date.now() > end) return resolve(false);
      setTimeout(look, 5);
    })();
  });
}
// Clicks `sel` until `done()` holds, as a person clicks again when nothing happened: a click
// can land in the few milliseconds before the library is ready for it (the simulator refuses
// `accept()` between `setup` and `ringing`, which only a script is fast enough to hit).
async function press(sel, reached, again) {
  var end = Date.now() + 20000;
  while (Date.now() < end) {
    (await el(sel)).click();
    if (await until(reached, again)) return;
  }
  throw new Error("pressing " + sel + " did nothing");
}
async function call(n) {
  var ringing = ".call-card[data-status=ringing] [data-action=accept]";
  var talking = ".call-card[data-status=talking] [data-action=hangup]";
  await press("#sim-incoming", function () { return seen(ringing); }, 20000);
  await press(ringing, function () { return seen(talking); }, 1000);
  await press(talking, function () { return seen(".wrap-up .draft-notes"); }, 1000);
  var notes = await el(".wrap-up .draft-notes");
  var text = "Soak call " + n + ": wants a callback on Friday";
  for (var i = 0; i < text.length; i++) {
    notes.value += text[i];
    notes.dispatchEvent(new Event("input", { bubbles: true }));
  }
  await press(".wrap-up [data-action=submit-draft]", function () { return !seen(".wrap-up"); }, 2000);
}
(async function () {
  for (var n = first; n < first + count; n++) await call(n);
})().then(function () { done(null); }, function (e) { done(String(e)); });
"##;

/// Calls `first` to `first + count - 1`, played in the page.
async fn calls_in_page(app: &App, first: usize, count: usize) {
    let r = app
        .client
        .execute_async(CALLS_SCRIPT, vec![json!(first), json!(count)])
        .await
        .unwrap_or_else(|e| panic!("calls {first}..: {e}"));
    assert!(r.is_null(), "calls {first}..: {r}");
}

/// One call through WebDriver's element commands (`--webdriver`), for comparison.
async fn one_call_webdriver(app: &App, n: usize) {
    app.click("#sim-incoming").await;
    app.click(".call-card[data-status=ringing] [data-action=accept]")
        .await;
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    app.type_into(
        ".wrap-up .draft-notes",
        &format!("Soak call {n}: wants a callback on Friday"),
    )
    .await;
    app.click(".wrap-up [data-action=submit-draft]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.exists(".wrap-up").await {
        assert!(
            Instant::now() < deadline,
            "call {n}: after-call work stays open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Sample {
    calls: usize,
    procs: Vec<Proc>,
    ms_per_call: f64,
    db_bytes: u64,
    /// SQLite's write-ahead log: it grows to about 4 MB, then is checkpointed back.
    wal_bytes: u64,
    journal_bytes: u64,
    /// The agent's window: its wasm linear memory (bytes), its DOM's element count, and the
    /// IPC callbacks Tauri holds for it (each `invoke` registers two until it is answered).
    wasm_bytes: f64,
    dom_nodes: f64,
    ipc_callbacks: f64,
}

/// What the agent's window holds: wasm linear memory (bytes), DOM elements, IPC callbacks.
async fn page_size(app: &App) -> (f64, f64, f64) {
    let v = app
        .client
        .execute(
            "var t = window.__TAURI_INTERNALS__; return [window.ringsideWasmMemory ? window.ringsideWasmMemory.buffer.byteLength : null, document.getElementsByTagName('*').length, t && t.callbacks ? t.callbacks.size : null];",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    let n = |i: usize| v[i].as_f64().unwrap_or(f64::NAN);
    (n(0), n(1), n(2))
}

async fn soak(o: &Opts, ringside: &Path, out: &mut Value, page: &mut String, lags: &mut Vec<f64>) {
    let profile = fresh("soak");
    // JavaScriptCore logs every collection with the heap's size after it (to the driver's log):
    // whether the JavaScript heap is what grows.
    let app = App::launch_embedded(profile.clone(), &[(JSC_LOG_GC, "true")]).await;
    app.wait("#registration.ok").await;
    app.client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(600)),
            None,
            None,
        ))
        .await
        .expect("script timeout");
    let db = |p: &Path| dir_bytes(&p.join("ringside.db"));
    let wal = |p: &Path| dir_bytes(&p.join("ringside.db-wal"));
    let (wasm_bytes, dom_nodes, ipc_callbacks) = page_size(&app).await;
    let mut samples = vec![Sample {
        calls: 0,
        procs: app_processes(app.driver_pid(), ringside),
        ms_per_call: f64::NAN,
        db_bytes: db(&profile),
        wal_bytes: wal(&profile),
        journal_bytes: dir_bytes(&profile.join("journal")),
        wasm_bytes,
        dom_nodes,
        ipc_callbacks,
    }];
    take_lag(&app).await;
    let mut block = Instant::now();
    let mut n = 0;
    while n < o.calls {
        let count = o.every.min(o.calls - n);
        if o.webdriver {
            for i in n + 1..=n + count {
                one_call_webdriver(&app, i).await;
            }
        } else {
            calls_in_page(&app, n + 1, count).await;
        }
        n += count;
        {
            let since = samples.last().map(|s| s.calls).unwrap_or(0);
            let ms_per_call = block.elapsed().as_secs_f64() * 1000.0 / (n - since) as f64;
            let block_lag = sorted(take_lag(&app).await);
            println!(
                "soak: UI lag in this block: p50 {:.0} ms, p99 {:.0} ms over {} deltas",
                pct(&block_lag, 0.5),
                pct(&block_lag, 0.99),
                block_lag.len()
            );
            lags.extend(block_lag);
            let (wasm_bytes, dom_nodes, ipc_callbacks) = page_size(&app).await;
            let s = Sample {
                calls: n,
                procs: app_processes(app.driver_pid(), ringside),
                ms_per_call,
                db_bytes: db(&profile),
                wal_bytes: wal(&profile),
                journal_bytes: dir_bytes(&profile.join("journal")),
                wasm_bytes,
                dom_nodes,
                ipc_callbacks,
            };
            println!(
                "soak: {n} calls, {ms_per_call:.0} ms/call, PSS {}",
                s.procs
                    .iter()
                    .map(|p| format!("{} {:.1}", p.role, mib(p.pss)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            samples.push(s);
            block = Instant::now();
        }
    }
    let trimmed = if o.trim {
        trim_heaps(
            &app,
            ringside,
            samples.last().map(|s| s.procs.as_slice()).unwrap_or(&[]),
        )
    } else {
        String::new()
    };
    app.close().await;

    let first = &samples[0];
    let last = samples.last().unwrap();
    // Growth per 1,000 calls between the first sample after warm-up (call `every`) and the
    // last one, so that start-up's one-off allocations do not count as growth.
    let base = samples.get(1).unwrap_or(first);
    let span = (last.calls - base.calls).max(1) as f64;
    let mut roles = roles(samples.iter().map(|s| s.procs.as_slice()));
    roles.push("total".into());
    let pss = |s: &Sample, role: &str| {
        if role == "total" {
            mib(total(&s.procs, |p| p.pss))
        } else {
            mib(s
                .procs
                .iter()
                .filter(|p| p.role == role)
                .map(|p| p.pss)
                .sum())
        }
    };
    let mut table = String::from("| calls | ms/call |");
    for r in &roles {
        let _ = write!(table, " {r} PSS MiB |");
    }
    table.push_str(" db KiB | WAL KiB | journal KiB | UI wasm MiB | UI DOM elements | UI IPC callbacks |\n|---|---|");
    for _ in &roles {
        table.push_str("---|");
    }
    table.push_str("---|---|---|---|---|---|\n");
    for s in &samples {
        let _ = write!(table, "| {} | {:.0} |", s.calls, s.ms_per_call);
        for r in &roles {
            let _ = write!(table, " {:.1} |", pss(s, r));
        }
        let _ = writeln!(
            table,
            " {:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} |",
            s.db_bytes as f64 / 1024.0,
            s.wal_bytes as f64 / 1024.0,
            s.journal_bytes as f64 / 1024.0,
            s.wasm_bytes / 1_048_576.0,
            s.dom_nodes,
            s.ipc_callbacks
        );
    }
    // Where each process grew, by kind of mapping (changes of 1 MiB or more).
    let mut by_kind = String::new();
    for r in roles.iter().filter(|r| *r != "total") {
        let kinds = |sample: &Sample| -> BTreeMap<String, u64> {
            let mut m = BTreeMap::new();
            for p in sample.procs.iter().filter(|p| &p.role == r) {
                for (k, v) in &p.kinds {
                    *m.entry(k.clone()).or_insert(0) += v;
                }
            }
            m
        };
        let (from, to) = (kinds(base), kinds(last));
        let mut moved: Vec<(String, f64)> = from
            .keys()
            .chain(to.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|k| {
                let d = to.get(k).copied().unwrap_or(0) as f64
                    - from.get(k).copied().unwrap_or(0) as f64;
                (k.clone(), d / 1024.0)
            })
            .filter(|(_, d)| d.abs() >= 1.0)
            .collect();
        moved.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        if !moved.is_empty() {
            let _ = writeln!(
                by_kind,
                "- {r}, call {} → {}: {}",
                base.calls,
                last.calls,
                moved
                    .iter()
                    .map(|(k, d)| format!("{k} {d:+.1} MiB"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    println!("\nPSS growth by kind of mapping:\n{by_kind}");
    let heap = js_heap_after_gc(&profile.join("driver.log"));
    let tenth = (heap.len() / 10).max(1);
    let avg = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len().max(1) as f64 / 1024.0;
    let js_heap = if heap.is_empty() {
        "- JavaScript heap: no collection was logged".to_string()
    } else {
        format!(
            "- JavaScript heap of the agent's page after each of its {} collections: {:.1} MiB on average over the first tenth, {:.1} MiB over the last tenth, {:.1} MiB at most",
            heap.len(),
            avg(&heap[..tenth]),
            avg(&heap[heap.len() - tenth..]),
            heap.iter().max().copied().unwrap_or(0) as f64 / 1024.0
        )
    };
    println!("{js_heap}");
    let mut growth = serde_json::Map::new();
    let mut lines = String::new();
    for r in &roles {
        let g = (pss(last, r) - pss(base, r)) * 1000.0 / span;
        growth.insert(r.clone(), json!(g));
        // The target is per process (≤ 5 MB, i.e. ≤ 4.77 MiB); the total is for the record.
        let target = if r == "total" {
            String::new()
        } else {
            format!(" (target ≤ 5 MB: {})", verdict(g * 1.048_576 <= 5.0))
        };
        let _ = writeln!(
            lines,
            "- {r}: PSS {g:+.1} MiB per 1,000 calls (from call {} to {}){target}",
            base.calls, last.calls,
        );
    }
    let cost = |s: &Sample| s.ms_per_call;
    let t_base = samples.get(1).map(cost).unwrap_or(f64::NAN);
    let t_last = cost(last);
    let db_per_call = (last.db_bytes as f64 - first.db_bytes as f64) / last.calls.max(1) as f64;
    let journal_per_call =
        (last.journal_bytes as f64 - first.journal_bytes as f64) / last.calls.max(1) as f64;
    let _ = writeln!(
        lines,
        "- time per call: {t_base:.0} ms (calls 1–{}) → {t_last:.0} ms (last block), {:+.1} % (target within 10 %: {})\n- database file {db_per_call:.0} bytes per call (its write-ahead log, bounded by checkpoints, not counted), journal {journal_per_call:.0} bytes per call",
        o.every,
        (t_last / t_base - 1.0) * 100.0,
        verdict((t_last / t_base - 1.0).abs() <= 0.10)
    );
    println!("\n{table}\n{lines}");
    let svg_series: Vec<(String, Vec<(f64, f64)>)> = roles
        .iter()
        .map(|r| {
            (
                r.clone(),
                samples
                    .iter()
                    .map(|s| (s.calls as f64, pss(s, r)))
                    .collect(),
            )
        })
        .collect();
    let time_series = vec![(
        "ms per call".to_string(),
        samples
            .iter()
            .skip(1)
            .map(|s| (s.calls as f64, s.ms_per_call))
            .collect::<Vec<_>>(),
    )];
    page.push_str(&format!(
        "## Soak: {} calls through the app\n\nEach call: *Simulate incoming call*, answer, hang up, notes typed into after-call work key by key, submit, on the real window's buttons, played by one script per block of calls inside the page (WebDriver's element commands are not used: WebKitWebDriver keeps every element it returned alive, so a WebDriver-driven soak measures WebDriver). PSS sampled every {} calls; `UI wasm` and `UI DOM elements` are the agent's window's wasm linear memory and element count.\n\n{table}\n{lines}\nWhere it grew, by kind of mapping (`/proc/<pid>/smaps`, changes of 1 MiB or more):\n\n{by_kind}\n{js_heap} (`JSC_logGC`).{trimmed}\n\n![PSS per process over the soak](perf/soak-pss.svg)\n\n![Time per call over the soak](perf/soak-time.svg)\n\n",
        o.calls, o.every
    ));
    out["soak"] = json!({
        "calls": o.calls,
        "growth_mib_per_1000": growth,
        "ms_per_call_first": t_base,
        "ms_per_call_last": t_last,
        "db_bytes_per_call": db_per_call,
        "journal_bytes_per_call": journal_per_call,
        "samples": samples.iter().map(|s| json!({
            "calls": s.calls,
            "ms_per_call": s.ms_per_call,
            "pss_kib": s.procs.iter().map(|p| (p.role.clone(), p.pss)).collect::<BTreeMap<_, _>>(),
            "db_bytes": s.db_bytes,
            "wal_bytes": s.wal_bytes,
            "ui_wasm_bytes": s.wasm_bytes,
            "ui_dom_elements": s.dom_nodes,
            "ui_ipc_callbacks": s.ipc_callbacks,
            "journal_bytes": s.journal_bytes,
        })).collect::<Vec<_>>(),
    });
    out["svg"]["soak-pss"] = json!(svg(
        "PSS per process (MiB) against calls handled",
        &svg_series
    ));
    out["svg"]["soak-time"] = json!(svg(
        "Time per call (ms) against calls handled",
        &time_series
    ));
}

/// 500 inbound calls that ring and are given up, four callbacks each, shaped as the real
/// library's (`tests/fixtures/traces/mizu-3.6/cancel.1002.jsonl`), all sent without waiting;
/// `window.benchBurst` holds how long until every one was accepted.
/// One burst, run in the webphone's iframe: 500 inbound calls given up while ringing, each
/// call's four callbacks reported in one task (as a SIP message's are) through the bridge's
/// own path (`transport.send`, what every library callback calls), the next call's in the
/// next task at once. Tasks are chained by a `MessageChannel`, not `setTimeout(0)`: WebKit
/// aligns a cross-origin frame's nested timers to 30 ms until the user interacts with it, which
/// would pace the burst at 35 calls a second.
fn burst_script(burst: usize) -> String {
    format!(
        r#"
var send = window.ringsideBridge.transport.send;
var i = 0;
var tasks = new MessageChannel();
tasks.port1.onmessage = function () {{ next(); }};
function next() {{
  if (i >= {calls}) return;
  var id = "bench-{burst}-" + i;
  var peer = "+1555" + String(1000000 + i).slice(1);
  var call = function (state) {{ return [state, 2, peer, peer, 1, "[" + id + "]"]; }};
  send("call", call("setup"));
  send("call", call("ringing"));
  send("call", call("disconnected"));
  send("cdr", [peer, "1002", "1848", "0", 2, peer, "Request Cancelled", 1, id]);
  i++;
  tasks.port2.postMessage(0);
}}
next();
return true;
"#,
        calls = CALLBACKS_PER_BURST / 4
    )
}

const JSC_LOG_GC: &str = "JSC_logGC";

/// The JavaScript heap after each collection, in KiB, of the busiest JavaScriptCore heap in a
/// log written with `JSC_logGC` (the agent's page: the webphone's iframe shares its heap).
fn js_heap_after_gc(log: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut by_heap: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains(" END]")) {
        let Some(heap) = line.split("[GC<").nth(1).and_then(|r| r.split('>').next()) else {
            continue;
        };
        let after = line
            .rsplit("=> ")
            .next()
            .and_then(|r| r.split("kb").next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(kb) = after {
            by_heap.entry(heap.to_string()).or_default().push(kb);
        }
    }
    by_heap
        .into_values()
        .max_by_key(Vec::len)
        .unwrap_or_default()
}

/// The relay's counters in the agent's page (`ui/static/relay.js`).
const RELAY_STATS: &str = "return window.ringsideRelay ? window.ringsideRelay.stats : null;";

/// The probe's lines: (asked at, Unix ms; waited, ms).
fn probe_lines(path: &Path) -> Vec<(f64, f64)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| Some((v["at_ms"].as_f64()?, v["delay_us"].as_f64()? / 1000.0)))
        .collect()
}

async fn burst(o: &Opts, out: &mut Value, page: &mut String, lags: &mut Vec<f64>) {
    let profile = fresh("burst");
    let probe = profile.join("main-thread-probe.jsonl");
    let probe_s = probe.to_string_lossy().into_owned();
    let app = App::launch_embedded(profile.clone(), &[(PROBE_ENV, probe_s.as_str())]).await;
    app.wait("#registration.ok").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    take_lag(&app).await;
    let idle_from = now_ms() - 2000.0;
    let idle: Vec<f64> = probe_lines(&probe)
        .into_iter()
        .filter(|(at, _)| *at >= idle_from)
        .map(|(_, d)| d)
        .collect();
    let mut stalls = Vec::new();
    let mut accepted_ms = Vec::new();
    let mut stalled_ms = Vec::new();
    for b in 0..o.bursts {
        let before = app
            .client
            .execute(RELAY_STATS, vec![])
            .await
            .unwrap_or(Value::Null);
        let from = now_ms();
        app.phone_eval(&burst_script(b)).await;
        // Done when the core has answered every callback the burst posted.
        let result = {
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                let v = app
                    .client
                    .execute(RELAY_STATS, vec![])
                    .await
                    .unwrap_or(Value::Null);
                let answered = v["answered"].as_f64().unwrap_or(0.0)
                    - before["answered"].as_f64().unwrap_or(0.0);
                if answered >= CALLBACKS_PER_BURST as f64 {
                    break json!({
                        "ms": v["last_answer_ms"].as_f64().unwrap_or(f64::NAN) - from,
                        "failed": v["refused_batches"].as_f64().unwrap_or(0.0)
                            - before["refused_batches"].as_f64().unwrap_or(0.0),
                    });
                }
                assert!(Instant::now() < deadline, "burst {b} never completed: {v}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        // Let the window render what the burst produced before reading its lags.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let to = now_ms();
        let burst_lag = take_lag(&app).await;
        let delays: Vec<f64> = probe_lines(&probe)
            .into_iter()
            .filter(|(at, _)| *at >= from && *at <= to)
            .map(|(_, d)| d)
            .collect();
        let s = sorted(delays);
        let stalled: f64 = s.iter().filter(|d| **d >= 50.0).sum();
        stalled_ms.push(stalled);
        println!(
            "burst {}: {} callbacks answered in {} ms ({} batches refused); main thread: longest stall {:.1} ms, {stalled:.0} ms in stalls of 50 ms or more, p99 {:.1} ms over {} probes; UI lag p99 {:.1} ms over {} deltas",
            b + 1,
            CALLBACKS_PER_BURST,
            result["ms"],
            result["failed"],
            s.last().copied().unwrap_or(f64::NAN),
            pct(&s, 0.99),
            s.len(),
            pct(&sorted(burst_lag.clone()), 0.99),
            burst_lag.len()
        );
        accepted_ms.push(result["ms"].as_f64().unwrap_or(f64::NAN));
        stalls.extend(s);
        lags.extend(burst_lag);
    }
    app.close().await;
    let stalls = sorted(stalls);
    let idle = sorted(idle);
    let (a0, am, a1) = mmm(&accepted_ms);
    let (s0, sm, s1) = mmm(&stalled_ms);
    let lines = format!(
        "| main (GTK) thread | longest stall | p99 delay | probes |\n|---|---|---|---|\n| idle, 2 s before the bursts | {:.1} ms | {:.1} ms | {} |\n| during {} bursts of {} callbacks | {:.1} ms | {:.1} ms | {} |\n\n- main thread stalled (delays of 50 ms or more, summed) per burst: {s0:.0} / {sm:.0} / {s1:.0} ms (min / median / max)\n- all callbacks of a burst accepted by the core in {a0:.0} / {am:.0} / {a1:.0} ms (min / median / max)\n",
        idle.last().copied().unwrap_or(f64::NAN),
        pct(&idle, 0.99),
        idle.len(),
        o.bursts,
        CALLBACKS_PER_BURST,
        stalls.last().copied().unwrap_or(f64::NAN),
        pct(&stalls, 0.99),
        stalls.len(),
    );
    println!("\n{lines}");
    page.push_str(&format!(
        "## Main thread under a burst of webphone callbacks\n\nThe app runs with `RINGSIDE_MAIN_THREAD_PROBE`: a thread asks the main thread to run an empty task every 10 ms and records how long it waited. Each burst: 500 given-up inbound calls, 4 callbacks each (the real library's shape), reported in the webphone's iframe through the bridge's own path, one call's callbacks per task and the next call's in the next task at once (chained by a `MessageChannel`) (the bridge posts a task's callbacks in one message; the relay in the agent's window hands them to the core, one request in flight, up to 64 callbacks each), while the agent's window renders the result. The core sends the window at most one delta a frame (16 ms).\n\n{lines}\n"
    ));
    out["burst"] = json!({
        "bursts": o.bursts,
        "callbacks_per_burst": CALLBACKS_PER_BURST,
        "accepted_ms": accepted_ms,
        "main_thread_longest_stall_ms": stalls.last(),
        "main_thread_p99_ms": pct(&stalls, 0.99),
        "main_thread_stalled_ms_per_burst": stalled_ms,
        "idle_longest_stall_ms": idle.last(),
    });
}

/// Starts a 1 s page timer in the current window; `window.benchTicks` collects when it fired.
const TICKS_SCRIPT: &str = "window.benchTicks = []; setInterval(function () { window.benchTicks.push(Date.now()); }, 1000); return document.visibilityState;";
const READ_TICKS: &str =
    "return { ticks: window.benchTicks || [], visibility: document.visibilityState };";

/// How late a 1 s timer fired: (largest gap between two firings − 1 s, p99 of that, count).
fn lateness(v: &Value) -> (f64, f64, usize) {
    let ticks: Vec<f64> = v["ticks"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let late = sorted(ticks.windows(2).map(|w| w[1] - w[0] - 1000.0).collect());
    (
        late.last().copied().unwrap_or(f64::NAN),
        pct(&late, 0.99),
        ticks.len(),
    )
}

/// The SIP client's timers: a 1 s page timer in the webphone's iframe and one in the agent's
/// page, both in the agent's window after asking for it to be minimised, watched for `--throttle-minutes`.
async fn throttle(o: &Opts, out: &mut Value, page: &mut String) {
    let profile = fresh("throttle");
    let app = App::launch_embedded(profile, &[]).await;
    app.wait("#registration.ok").await;
    let phone_visibility = app.phone_eval(TICKS_SCRIPT).await;
    let minimised = app.client.minimize_window().await;
    let main_visibility = app
        .client
        .execute(TICKS_SCRIPT, vec![])
        .await
        .unwrap_or(Value::Null);
    println!(
        "throttle: watching for {} min (webphone's iframe {phone_visibility}, agent's window {main_visibility}{})",
        o.throttle_minutes,
        if minimised.is_err() { ", minimise refused" } else { "" }
    );
    tokio::time::sleep(Duration::from_secs(o.throttle_minutes * 60)).await;
    let phone = app.phone_eval(READ_TICKS).await;
    let main = app
        .client
        .execute(READ_TICKS, vec![])
        .await
        .unwrap_or(Value::Null);
    app.close().await;
    let mut table = String::from(
        "| 1 s page timer | page visibility | firings | latest (ms late) | p99 (ms late) |\n|---|---|---|---|---|\n",
    );
    let mut json_rows = serde_json::Map::new();
    for (name, v) in [
        ("webphone's iframe, window minimised", &phone),
        ("agent's window, minimised", &main),
    ] {
        let (max, p99, n) = lateness(v);
        let _ = writeln!(
            table,
            "| {name} | {} | {n} | {max:.0} | {p99:.0} |",
            v["visibility"].as_str().unwrap_or("?")
        );
        json_rows.insert(
            name.into(),
            json!({"visibility": v["visibility"], "firings": n, "max_late_ms": max, "p99_late_ms": p99}),
        );
    }
    let worst = lateness(&phone).0;
    let _ = writeln!(
        table,
        "\n- target: no hidden-page timer later than 2 s: {}",
        verdict(worst <= 2000.0)
    );
    println!("\n{table}");
    page.push_str(&format!(
        "## Timers in hidden pages\n\nA SIP client lives on timers (re-registration, keep-alives). A 1 s `setInterval` ran for {} min in the webphone's iframe and in the agent's page, after WebDriver asked for the window to be minimised. Under Xvfb there is no window manager, so \"minimised\" may leave the page visible: the table says what the page itself reported.\n\n{table}\n",
        o.throttle_minutes
    ));
    out["throttle"] = Value::Object(json_rows);
}

// ---------------------------------------------------------------------------------------------
// The page

const COLOURS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
];

/// A line chart as SVG, axes from zero, one colour per series with a legend.
fn svg(title: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    let (w, h, l, r, t, b) = (720.0, 360.0, 60.0, 150.0, 30.0, 40.0);
    let pts = series
        .iter()
        .flat_map(|(_, p)| p.iter())
        .filter(|p| p.1.is_finite());
    let xmax = pts.clone().map(|p| p.0).fold(1.0, f64::max);
    let ymax = pts.map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let x = |v: f64| l + v / xmax * (w - l - r);
    let y = |v: f64| h - b - v / ymax * (h - t - b);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{l}" y="18" font-size="14">{title}</text>"#
    );
    let _ = write!(
        s,
        r#"<line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="black"/><line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="black"/>"#,
        h - b,
        w - r,
        h - b,
        h - b
    );
    for i in 0..=4 {
        let v = ymax * i as f64 / 4.0;
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end">{v:.0}</text><line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>"##,
            l - 5.0,
            y(v) + 4.0,
            y(v),
            w - r,
            y(v)
        );
        let xv = xmax * i as f64 / 4.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{xv:.0}</text>"#,
            x(xv),
            h - b + 16.0
        );
    }
    for (i, (name, p)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let line: Vec<String> = p
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(a, v)| format!("{:.1},{:.1}", x(a), y(v)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/><text x="{}" y="{}" fill="{colour}">{name}</text>"#,
            line.join(" "),
            w - r + 10.0,
            t + 16.0 * (i as f64 + 1.0)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn core_figures(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("engine/")
                || l.contains("time:")
                || l.contains("thrpt:")
                || l.starts_with("callback ->")
                || l.starts_with("drain of")
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(
        "## The core alone\n\nFrom `cargo bench -p ringside-core -p ringside-service` in the same run (criterion's engine throughput; callback → committed row, → acknowledged by the backend, and the outbox drain against the backend's raw write rate):\n\n```\n{}\n```\n",
        lines.join("\n")
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let o = opts();
    let ringside = ringside_e2e::app_binary();
    let mut out = json!({"label": o.label, "app": ringside.to_string_lossy()});
    let mut page = String::new();
    let mut soak_lag = Vec::new();
    let mut burst_lag = Vec::new();
    let started = Instant::now();
    for s in o.scenarios.clone() {
        match s.as_str() {
            "footprint" => footprint(&o, &ringside, &mut out, &mut page).await,
            "soak" => soak(&o, &ringside, &mut out, &mut page, &mut soak_lag).await,
            "burst" => burst(&o, &mut out, &mut page, &mut burst_lag).await,
            "throttle" => throttle(&o, &mut out, &mut page).await,
            other => panic!("unknown scenario {other}"),
        }
    }
    if !soak_lag.is_empty() || !burst_lag.is_empty() {
        let row = |name: &str, v: &[f64]| {
            let st = lag_stats(v);
            format!(
                "| {name} | {} | {:.1} | {:.1} | {:.1} |\n",
                st["n"],
                st["p50_ms"].as_f64().unwrap_or(f64::NAN),
                st["p99_ms"].as_f64().unwrap_or(f64::NAN),
                st["max_ms"].as_f64().unwrap_or(f64::NAN)
            )
        };
        let table = format!(
            "| UI lag, core snapshot → rendered | deltas | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n{}{}\n- target: p99 ≤ 50 ms under the burst: {}\n",
            row("agent pace (the soak)", &soak_lag),
            row("bursts of 2,000 callbacks", &burst_lag),
            verdict(pct(&sorted(burst_lag.clone()), 0.99) <= 50.0)
        );
        println!("\n{table}");
        page.push_str(&format!("## UI lag\n\nEvery delta the agent's window receives is timed from the moment the core built it to the end of the render it caused (`window.ringsideLag`).\n\n{table}\n"));
        out["ui_lag"] = json!({"soak": lag_stats(&soak_lag), "burst": lag_stats(&burst_lag)});
    }
    let results = work().join("results.json");
    std::fs::write(&results, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    println!("results: {}", results.display());
    // A partial run (some scenarios, or fewer calls) must not overwrite the page of a full
    // one: it goes next to `results.json` instead.
    let partial = o.scenarios != DEFAULT_SCENARIOS || o.calls != 1000 || o.runs != 3;
    let page_path = o.page.as_ref().map(|p| {
        if partial {
            work().join("performance.md")
        } else {
            p.clone()
        }
    });
    if let Some(path) = &page_path {
        let mut doc = format!(
            "# Performance\n\nWritten by `cargo xtask bench` (release builds, demo mode, Xvfb, this repository's machine: 2 cores); its whole-app part ran in {:.0} min. Every figure below comes from that one command; targets are reported, never asserted.\n\n",
            started.elapsed().as_secs_f64() / 60.0
        );
        doc.push_str(&page);
        if let Some(core) = &o.core {
            doc.push_str(&core_figures(core));
        }
        let dir = path.parent().unwrap_or(Path::new(".")).join("perf");
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(svgs) = out["svg"].as_object() {
            for (name, body) in svgs {
                std::fs::write(dir.join(format!("{name}.svg")), body.as_str().unwrap_or(""))
                    .unwrap();
            }
        }
        std::fs::write(path, doc).unwrap();
        println!("page: {}", path.display());
    }
}
