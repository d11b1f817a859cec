//! Automatic updates end to end (issue 10), with the real packages and the real updater.
//!
//! Version A (`dist/`, from `cargo xtask bundle`) is installed with `dpkg -i` into this machine's
//! `/usr`, `/etc` and dpkg database as seen from a private mount namespace, where overlays
//! take every write: the machine itself is never touched. An update server on loopback offers
//! version B (`dist/test/next/`, the same build one patch version up, signed with the same
//! key). The app's policy is IT's file, `/etc/ringside/config.toml`, as on a seat.
//!
//! - a channel whose answer is not JSON, a package altered after signing, and a policy naming
//!   another key each leave A running and say so in the window;
//! - a good update found during a call waits for the call and its after-call work, then is
//!   installed by the plugin's own `dpkg -i` and Ringside starts again, as B.
//!
//! The plugin asks for an administrator through `pkexec`; inside the namespace the test is
//! already root, so `pkexec` is a shim that runs the command (what polkit does once the
//! password is given).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ringside_e2e::{
    descendants, dist_dir as dist, eventually, only_file as only, work_dir, x11, App, Backend,
    Mode, SERIAL,
};

const INSIDE: &str = "RINGSIDE_UPDATE_TEST_NAMESPACE";
const TEST: &str =
    "a_signed_update_waits_for_the_call_installs_and_starts_again_and_a_bad_one_is_refused";

fn run(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The version of `ringside` dpkg has installed (in this namespace's overlay).
fn installed_version() -> String {
    run(Command::new("dpkg-query").args(["-W", "-f", "${Version}", "ringside"]))
}

/// A package version's first line of `latest.json`, as `cargo xtask bundle` writes it.
fn manifest(version: &str, url: &str, signature: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": version,
        "notes": format!("Ringside {version}"),
        "platforms": { "linux-x86_64-deb": { "signature": signature, "url": url } },
    }))
    .unwrap()
}

/// An update server on loopback: `latest.json` (held back while the gate is shut) and the
/// packages, every request noted with its time.
struct UpdateServer {
    base: String,
    manifest: Arc<Mutex<Vec<u8>>>,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    gate: Arc<(Mutex<bool>, Condvar)>,
    requests: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl UpdateServer {
    fn start() -> UpdateServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = UpdateServer {
            base,
            manifest: Arc::default(),
            files: Arc::default(),
            gate: Arc::new((Mutex::new(true), Condvar::new())),
            requests: Arc::default(),
        };
        let (manifest, files, gate, requests) = (
            server.manifest.clone(),
            server.files.clone(),
            server.gate.clone(),
            server.requests.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (manifest, files, gate, requests) = (
                    manifest.clone(),
                    files.clone(),
                    gate.clone(),
                    requests.clone(),
                );
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                            break;
                        }
                    }
                    requests
                        .lock()
                        .unwrap()
                        .push((Instant::now(), path.clone()));
                    let body = if path.ends_with("/latest.json") {
                        let (open, cv) = &*gate;
                        let _unused = cv
                            .wait_timeout_while(
                                open.lock().unwrap(),
                                Duration::from_secs(120),
                                |o| !*o,
                            )
                            .unwrap();
                        Some(manifest.lock().unwrap().clone())
                    } else {
                        let name = path.trim_start_matches('/');
                        files.lock().unwrap().get(name).cloned()
                    };
                    let mut conn = conn;
                    let head = match &body {
                        Some(b) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        ),
                        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
                    };
                    let _ = conn.write_all(head.as_bytes());
                    if let Some(b) = body {
                        let _ = conn.write_all(&b);
                    }
                });
            }
        });
        server
    }

    fn channel(&self) -> String {
        format!("{}/latest.json", self.base)
    }

    fn offer(&self, manifest: Vec<u8>) {
        *self.manifest.lock().unwrap() = manifest;
    }

    fn serve(&self, name: &str, bytes: Vec<u8>) {
        self.files.lock().unwrap().insert(name.into(), bytes);
    }

    fn shut(&self, shut: bool) {
        let (open, cv) = &*self.gate;
        *open.lock().unwrap() = !shut;
        cv.notify_all();
    }

    fn asked(&self, path: &str) -> Option<Instant> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .rfind(|(_, p)| p == path)
            .map(|(t, _)| *t)
    }
}

/// IT's policy file, where a seat has it.
fn policy(backend: &Backend, channel: &str, key: Option<&str>) {
    std::fs::create_dir_all("/etc/ringside").unwrap();
    let mut text = format!(
        "backend_url = \"{}\"\nupdate_url = \"{channel}\"\nupdate_mode = \"auto\"\n",
        backend.url
    );
    if let Some(k) = key {
        text.push_str(&format!("update_public_key = \"{k}\"\n"));
    }
    std::fs::write("/etc/ringside/config.toml", text).unwrap();
}

/// The update line, once it is in `state`: its text.
async fn update_line(app: &App, state: &str) -> String {
    let css = format!(".notice.update[data-state={state}]");
    app.wait_text(&css, |t| !t.is_empty()).await
}

/// Lines of the app's JSON log in `profile` whose message mentions `needle`.
fn log_lines(profile: &Path, needle: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(profile.join("logs")) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for f in dir.flatten() {
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        lines.extend(
            text.lines()
                .filter(|l| l.contains(needle))
                .map(String::from),
        );
    }
    lines.sort();
    lines
}

/// Mounts an overlay on each of `dirs`, its writes kept under `work`.
fn overlay(work: &Path, dirs: &[&str]) {
    for d in dirs {
        let name = d.trim_start_matches('/').replace('/', "-");
        let (upper, scratch) = (
            work.join(format!("{name}-upper")),
            work.join(format!("{name}-work")),
        );
        std::fs::create_dir_all(&upper).unwrap();
        std::fs::create_dir_all(&scratch).unwrap();
        run(Command::new("mount")
            .args(["-t", "overlay", "overlay", "-o"])
            .arg(format!(
                "lowerdir={d},upperdir={},workdir={}",
                upper.display(),
                scratch.display()
            ))
            .arg(d));
    }
}

/// The outer test: this same test again, inside a private mount namespace.
#[test]
fn a_signed_update_waits_for_the_call_installs_and_starts_again_and_a_bad_one_is_refused() {
    if std::env::var_os(INSIDE).is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(inside());
        return;
    }
    let root = run(Command::new("id").arg("-u")).trim() == "0";
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private"]);
    if !root {
        cmd.arg("--map-root-user");
    }
    let status = cmd
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads", "1"])
        .env(INSIDE, "1")
        .status()
        .expect("unshare (util-linux) runs");
    assert!(
        status.success(),
        "the update test failed inside its namespace"
    );
}

async fn inside() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("updates");
    let dist = dist();
    let a_deb = only(&dist, ".deb");
    let next_dir = dist.join("test/next");
    let b_deb = only(&next_dir, ".deb");
    let b_name = b_deb.file_name().unwrap().to_string_lossy().into_owned();
    // `Ringside_<version>_amd64.deb`
    let b_version = b_name.split('_').nth(1).unwrap().to_string();
    let b_sig = std::fs::read_to_string(format!("{}.sig", b_deb.display())).unwrap();
    let b_bytes = std::fs::read(&b_deb).unwrap();
    let other_key = std::fs::read_to_string(dist.join("test/other-updater.key.pub")).unwrap();

    overlay(
        &dir,
        &["/usr", "/etc", "/var/lib/dpkg", "/var/log", "/var/cache"],
    );
    run(Command::new("dpkg").arg("-i").arg(&a_deb));
    let a_version = installed_version();
    assert_ne!(a_version, b_version);
    // Root already: the plugin's `pkexec dpkg -i …` runs the command as polkit would.
    let shim = dir.join("bin");
    std::fs::create_dir_all(&shim).unwrap();
    std::fs::write(shim.join("pkexec"), "#!/bin/sh\nexec \"$@\"\n").unwrap();
    run(Command::new("chmod").arg("+x").arg(shim.join("pkexec")));
    let path = format!(
        "{}:{}",
        shim.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", path);
    std::env::set_var("RINGSIDE_APP_BIN", "/usr/bin/ringside");

    let backend = Backend::start(&dir).await;
    let server = UpdateServer::start();
    server.serve(&b_name, b_bytes.clone());
    let url = format!("{}/{b_name}", server.base);

    // 1. A channel whose answer is not JSON: A keeps running, and says so.
    policy(&backend, &server.channel(), None);
    server.offer(b"{ this is not a release".to_vec());
    let app = App::launch_env(&backend, dir.join("profile-1"), Mode::Demo, &[]).await;
    let said = update_line(&app, "Failed").await;
    assert!(said.contains("could not read its update channel"), "{said}");
    assert!(
        said.contains(&format!("Ringside {a_version} keeps running")),
        "{said}"
    );
    app.close().await;
    assert_eq!(installed_version(), a_version);

    // 2. The package altered after it was signed: refused.
    let mut tampered = b_bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x55;
    server.serve("tampered.deb", tampered);
    server.offer(manifest(
        &b_version,
        &format!("{}/tampered.deb", server.base),
        &b_sig,
    ));
    let app = App::launch_env(&backend, dir.join("profile-2"), Mode::Demo, &[]).await;
    let said = update_line(&app, "Refused").await;
    assert!(
        said.contains("not signed with your IT department's key"),
        "{said}"
    );
    app.close().await;
    assert_eq!(installed_version(), a_version);

    // 3. Signed, but not with the key IT's policy names: refused.
    policy(&backend, &server.channel(), Some(other_key.trim()));
    server.offer(manifest(&b_version, &url, &b_sig));
    let app = App::launch_env(&backend, dir.join("profile-3"), Mode::Demo, &[]).await;
    let said = update_line(&app, "Refused").await;
    assert!(said.contains(&b_version), "{said}");
    app.close().await;
    assert_eq!(installed_version(), a_version);

    // 4. A good update, found during a call: it waits for the call and its after-call work.
    policy(&backend, &server.channel(), None);
    server.shut(true);
    let profile = dir.join("profile-4");
    let launched = Instant::now();
    let app = App::launch_env(&backend, profile.clone(), Mode::Demo, &[]).await;
    app.wait_text("#registration", |t| t == "Phone ready").await;
    app.answer_demo_call().await;
    server.shut(false);
    let opened = launched.elapsed().as_millis();
    let said = update_line(&app, "Ready").await;
    assert!(said.contains("installs after this call"), "{said}");
    app.screenshot("35-update-ready").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(installed_version(), a_version, "installed during a call");
    app.click(".call-card[data-status=talking] [data-action=hangup]")
        .await;
    app.select(".wrap-up .draft-disposition", "callback").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        installed_version(),
        a_version,
        "installed during after-call work"
    );
    let old = descendants(app.driver_pid());
    app.click(".wrap-up [data-action=submit-draft]").await;
    let submitted = Instant::now();
    eventually(120, "B installed by the updater", || async {
        (installed_version() == b_version).then_some(())
    })
    .await;
    let installed = Instant::now();
    // The old version quits and B starts on the same profile, outside WebDriver's reach.
    let up = eventually(60, "B started", || async {
        log_lines(&profile, "Ringside is up")
            .into_iter()
            .find(|l| l.contains(&format!("\"version\":\"{b_version}\"")))
    })
    .await;
    let restarted = Instant::now();
    let b_pid = eventually(30, "B's process", || async {
        std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let exe = std::fs::read_link(e.path().join("exe")).ok()?;
            (exe == Path::new("/usr/bin/ringside") && !old.contains(&pid)).then_some(pid)
        })
    })
    .await;
    let window = eventually(30, "B's window", || async {
        x11::AppWindow::find(&[b_pid], "Ringside").filter(x11::AppWindow::shown)
    })
    .await;
    drop(window);
    drop(app);

    let asked = server
        .asked("/latest.json")
        .map_or(0, |t| t.duration_since(launched).as_millis());
    let fetched = server
        .asked(&format!("/{b_name}"))
        .map_or(0, |t| t.duration_since(launched).as_millis());
    println!(
        "update timeline (ms from A's launch): channel asked {asked}, answered from {opened} (once a call was up), package fetched {fetched}; \
         after-call work submitted → B installed {} ms → B up {} ms (the app's log below has the exact times)",
        installed.duration_since(submitted).as_millis(),
        restarted.duration_since(submitted).as_millis()
    );
    for line in log_lines(&profile, "\"target\":\"ringside::updates\"") {
        println!("  {line}");
    }
    println!("  {up}");

    let mut tree = descendants(b_pid);
    tree.push(b_pid);
    for pid in tree.iter().rev() {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
}
