//! # Ringside end-to-end harness
//!
//! Starts the reference backend binary and `tauri-driver`, launches the real `ringside`
//! binary through WebKitWebDriver, and gives tests a WebDriver client on the agent's window
//! plus a backend client to check what reached the backend.
//!
//! Needs a display (run under `xvfb-run -a`, as `cargo xtask test` does), the app built
//! (`cargo xtask test` builds it), `tauri-driver` and `WebKitWebDriver` installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub mod x11;
use serde_json::{json, Value};

/// `target/debug`, found from the test executable (`target/debug/deps/<test>`).
/// A path in this checkout, found at run time: with one target dir shared by two checkouts, a
/// compile-time `CARGO_MANIFEST_DIR` can name the other one.
pub fn repo_path(rel: &str) -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    start
        .ancestors()
        .find(|d| d.join("xtask").is_dir() && d.join("Cargo.lock").is_file())
        .unwrap_or(&start)
        .join(rel)
}

pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .to_path_buf()
}
/// `dist/` as `cargo xtask bundle` wrote it: `RINGSIDE_DIST` (set by `cargo xtask test`), else
/// the checkout's.
pub fn dist_dir() -> PathBuf {
    let d = std::env::var_os("RINGSIDE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("dist"));
    assert!(
        d.join("apt").is_dir(),
        "{} has no apt repository: run `cargo xtask bundle` (cargo xtask test does)",
        d.display()
    );
    d
}

/// The file in `dir` whose name ends with `ext` (a package in `dist/`).
pub fn only_file(dir: &std::path::Path, ext: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(ext))
        .unwrap_or_else(|| panic!("no {ext} in {}", dir.display()))
}

/// A fresh directory for one test's backend database, app profile and logs, kept after the
/// run (under `target/e2e/NAME`) so a failure can be read.
pub fn work_dir(name: &str) -> PathBuf {
    let dir = bin_dir().join("..").join("e2e").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn log_file(dir: &std::path::Path, name: &str) -> Stdio {
    let _ = std::fs::create_dir_all(dir);
    std::fs::File::create(dir.join(name))
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        // Taken first: once tauri-driver is gone its children belong to init and cannot be
        // found. The app may outlive it on purpose (a window close that asks "quit anyway?"
        // during a call), and one left running would hold the next test's keys and sockets.
        let tree = descendants(self.0.id());
        // SIGTERM first: tauri-driver stops its WebKitWebDriver and the app on it.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut exited = false;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !exited {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
        for pid in tree {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The file name of the executable `pid` runs (`/proc/<pid>/exe`), or "" when it is gone.
pub fn exe_name(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// Every process below `pid`, children before grandchildren.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let out = Command::new("ps")
            .args(["-o", "pid=", "--ppid", &p.to_string()])
            .output();
        let Ok(out) = out else { continue };
        for child in String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|c| c.parse::<u32>().ok())
        {
            all.push(child);
            todo.push(child);
        }
    }
    all
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The reference backend as a child process on a loopback port.
pub struct Backend {
    child: Option<Killed>,
    pub url: String,
    db: PathBuf,
    http: reqwest::Client,
    token: String,
    /// The token of its `/admin` routes (the simulated PBX, faults), which the tests and a
    /// demo-mode app use.
    pub admin_token: String,
}

/// Both TLS stacks in this test binary link rustls with different crypto providers; pick
/// one for the process before any client is built.
fn init_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Starts the backend binary on `listen` with the database `db` and the admin token in
/// `admin_token_file`; returns it and its URL.
fn spawn_backend(
    listen: &str,
    db: &std::path::Path,
    admin_token_file: &std::path::Path,
) -> (Killed, String) {
    let bin = std::env::var_os("RINGSIDE_BACKEND_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin_dir().join("ringside-backend"));
    assert!(
        bin.exists(),
        "{} missing: run `cargo xtask test`",
        bin.display()
    );
    let mut child = Command::new(&bin)
        .args(["--listen", listen, "--db"])
        .arg(db)
        .arg("--admin-token-file")
        .arg(admin_token_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start backend");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("backend banner")
        .to_string();
    (Killed(child), url)
}

impl Backend {
    pub async fn start(dir: &std::path::Path) -> Backend {
        init_crypto();
        let db = dir.join("backend.db");
        let admin_token = format!("e2e-admin-{}-{}", std::process::id(), now_nanos());
        std::fs::write(dir.join("admin-token"), format!("{admin_token}\n")).unwrap();
        let (child, url) = spawn_backend("127.0.0.1:0", &db, &dir.join("admin-token"));
        let http = reqwest::Client::new();
        let login: Value = http
            .post(format!("{url}/api/auth/login"))
            .json(&json!({"username": "demo", "password": "demo"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_string();
        Backend {
            child: Some(child),
            url,
            db,
            http,
            token,
            admin_token,
        }
    }

    /// The bearer a request to `path` needs: the admin token for `/admin/...`, the signed-in
    /// agent's otherwise.
    fn bearer(&self, path: &str) -> &str {
        if path.starts_with("/admin/") {
            &self.admin_token
        } else {
            &self.token
        }
    }

    /// The backend stops answering without closing anything (SIGSTOP), as a hung server or a
    /// dead network link looks from the app: connections stay open, nothing comes back.
    pub fn freeze(&self, frozen: bool) {
        if let Some(child) = &self.child {
            let signal = if frozen { "-STOP" } else { "-CONT" };
            let _ = Command::new("kill")
                .args([signal, &child.0.id().to_string()])
                .status();
        }
    }

    /// The backend process dies, as in a crash: its connections close, new ones are refused.
    pub fn kill(&mut self) {
        self.child = None;
    }

    /// Starts the backend again on the same address and database (tokens stay valid).
    pub async fn restart(mut self) -> Backend {
        self.child = None;
        let listen = self.url.trim_start_matches("http://").to_string();
        let token_file = self.db.with_file_name("admin-token");
        let (child, url) = spawn_backend(&listen, &self.db, &token_file);
        assert_eq!(url, self.url, "the backend came back on another address");
        self.child = Some(child);
        self
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(self.bearer(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A reference-backend admin call (`PUT`/`POST` under `/admin/`).
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(self.bearer(path))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    pub async fn set_faults(&self, faults: Value) {
        self.http
            .put(format!("{}/admin/faults", self.url))
            .bearer_auth(&self.admin_token)
            .json(&faults)
            .send()
            .await
            .unwrap();
    }
}

/// The `ringside` executable under test: `RINGSIDE_APP_BIN`, or the one next to this binary.
pub fn app_binary() -> PathBuf {
    let app = std::env::var_os("RINGSIDE_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin_dir().join("ringside"));
    assert!(
        app.exists(),
        "{} missing: run `cargo xtask test`",
        app.display()
    );
    app
}

/// A WebDriver session on any Tauri app binary, started through its own `tauri-driver`, which
/// takes the app's environment (`configure`) and stops the app when the session drops.
pub struct Session {
    pub client: Client,
    driver: Killed,
}

impl Session {
    pub async fn start(
        app: &std::path::Path,
        log_dir: &std::path::Path,
        configure: impl FnOnce(&mut Command),
    ) -> Session {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run under `xvfb-run -a` (cargo xtask test does)"
        );
        init_crypto();
        let port = free_port();
        let native = free_port();
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ]);
        configure(&mut cmd);
        let driver = cmd
            .stdout(Stdio::null())
            .stderr(log_file(log_dir, "driver.log"))
            .spawn()
            .expect("start tauri-driver (cargo xtask setup installs it)");
        let driver = Killed(driver);
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": app.to_string_lossy() },
        });
        let caps = caps.as_object().unwrap().clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("tls")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        };
        Session { client, driver }
    }

    /// The pid of `tauri-driver`: the root of the app's process tree.
    pub fn driver_pid(&self) -> u32 {
        self.driver.0.id()
    }

    /// Ends the session and waits for tauri-driver (and so the app) to exit.
    pub async fn stop(self) {
        let _ = self.client.close().await;
        drop(self.driver);
    }
}

/// The app, launched by tauri-driver, with a WebDriver session on its main window.
pub struct App {
    pub client: Client,
    _driver: Killed,
    pub profile: PathBuf,
    /// The environment the app was started with, for a second launch on its profile.
    env: Vec<(String, Option<String>)>,
}

/// End-to-end tests share one display and two cores: they run one at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Demo mode against the test's backend: signs in by itself as demo/demo.
    Demo,
    /// Live mode: the sign-in screen comes first.
    Live,
}

impl App {
    pub async fn launch(backend: &Backend, profile: PathBuf) -> App {
        Self::launch_with(backend, profile, Mode::Demo).await
    }

    pub async fn launch_with(backend: &Backend, profile: PathBuf, mode: Mode) -> App {
        Self::launch_env(backend, profile, mode, &[]).await
    }

    /// As `launch_with`, with extra environment for the app (e.g. `RINGSIDE_WEBPHONE`).
    pub async fn launch_env(
        backend: &Backend,
        profile: PathBuf,
        mode: Mode,
        env: &[(&str, &str)],
    ) -> App {
        Self::start(Some(backend), profile, mode, env).await
    }

    /// Demo mode as `cargo xtask run` starts it: no backend URL, so the app runs its own
    /// in-process reference backend (the `demo` feature).
    pub async fn launch_embedded(profile: PathBuf, env: &[(&str, &str)]) -> App {
        Self::start(None, profile, Mode::Demo, env).await
    }

    async fn start(
        backend: Option<&Backend>,
        profile: PathBuf,
        mode: Mode,
        env: &[(&str, &str)],
    ) -> App {
        let path = |p: PathBuf| Some(p.to_string_lossy().into_owned());
        let mut vars: Vec<(String, Option<String>)> = vec![
            (
                "RINGSIDE_BACKEND_URL".into(),
                backend.map(|b| b.url.clone()),
            ),
            // Demo mode's "Simulate incoming call" goes through the backend's admin routes.
            (
                "RINGSIDE_DEMO_ADMIN_TOKEN".into(),
                backend.map(|b| b.admin_token.clone()),
            ),
            ("RINGSIDE_PROFILE_DIR".into(), path(profile.clone())),
            (
                "RINGSIDE_CONFIG".into(),
                path(profile.join("no-user-config.toml")),
            ),
            (
                "RINGSIDE_SYSTEM_CONFIG".into(),
                path(profile.join("no-system-config.toml")),
            ),
            (
                "RINGSIDE_MODE".into(),
                Some(if mode == Mode::Demo { "demo" } else { "live" }.into()),
            ),
            ("RINGSIDE_PASSWORD".into(), None),
        ];
        vars.extend(
            env.iter()
                .map(|(k, v)| ((*k).to_string(), Some((*v).to_string()))),
        );
        let session = Session::start(&app_binary(), &profile, |driver| {
            set_env(driver, &vars);
        })
        .await;
        let app = App {
            client: session.client,
            _driver: session.driver,
            profile,
            env: vars,
        };
        app.focus_main().await;
        app
    }

    /// The pid of `tauri-driver`, whose descendants are WebKitWebDriver, the app and its web
    /// processes.
    pub fn driver_pid(&self) -> u32 {
        self._driver.0.id()
    }

    /// The agent's window on the X display (waits up to 10 s for it).
    pub async fn window(&self) -> x11::AppWindow {
        let pid = self.driver_pid();
        eventually(10, "the app's X window", || async move {
            x11::AppWindow::find(&descendants(pid), "Ringside")
        })
        .await
    }

    /// Runs `script` in the webphone's iframe (its value is returned), then comes back to the
    /// agent's page: what the library was actually asked to do, seen from its side.
    pub async fn phone_eval(&self, script: &str) -> Value {
        let frame = self
            .client
            .find(Locator::Css("#webphone-host"))
            .await
            .expect("the agent's window holds the webphone's iframe");
        frame
            .enter_frame()
            .await
            .expect("WebDriver enters the webphone's iframe");
        let result = self.client.execute(script, vec![]).await;
        self.client
            .enter_parent_frame()
            .await
            .expect("WebDriver comes back to the agent's page");
        result.expect("script runs in the webphone's iframe")
    }

    /// Waits for the agent's window to show the Yew app (the session may start before it has).
    async fn focus_main(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for handle in self.client.windows().await.unwrap_or_default() {
                if self.client.switch_to_window(handle).await.is_ok()
                    && self.client.title().await.is_ok_and(|t| t == "Ringside")
                    && self
                        .client
                        .find(Locator::Css(".shell, .signin, .startup-error"))
                        .await
                        .is_ok()
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the main window never showed the app"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits for an element matching `css` whose text satisfies `pred`; returns the text.
    pub async fn wait_text(&self, css: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        loop {
            if let Ok(elems) = self.client.find_all(Locator::Css(css)).await {
                for e in elems {
                    // `textContent`, not WebDriver's rendered text: WebKitWebDriver reports
                    // "" for text inside `text-overflow: ellipsis` boxes.
                    if let Ok(Some(t)) = e.prop("textContent").await {
                        let t = t.trim().to_string();
                        if pred(&t) {
                            return t;
                        }
                        last = t;
                    }
                }
            }
            if Instant::now() >= deadline {
                self.screenshot("timeout").await;
                let body = self.client.source().await.unwrap_or_default();
                panic!("timed out waiting for `{css}` (last text: {last:?}); page:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait(&self, css: &str) {
        self.wait_text(css, |_| true).await;
    }

    /// Clicks the element matching `css`. The UI re-renders on every snapshot, so the element
    /// found can be replaced before the click lands (a stale reference): find it again, as a
    /// person's second click would, for up to 5 s.
    pub async fn click(&self, css: &str) {
        self.retry_stale(css, |el| async move { el.click().await })
            .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.retry_stale(css, |el| async move { el.send_keys(text).await })
            .await;
    }

    /// Finds `css` and acts on it. The UI can replace the element between the two (a
    /// re-render, a form that changes call): find it again, as a person would look again,
    /// for up to 5 s.
    async fn retry_stale<F, Fut>(&self, css: &str, act: F)
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            self.wait(css).await;
            let result = match self.client.find(Locator::Css(css)).await {
                Ok(el) => act(el).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => return,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot act on {css}: {e}"),
            }
        }
    }

    /// Saves a PNG of the window under `target/e2e-screenshots/NAME.png`, and into
    /// `docs/screenshots/` when `RINGSIDE_UPDATE_SCREENSHOTS=1`.
    pub async fn screenshot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let dir = bin_dir().join("..").join("e2e-screenshots");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{name}.png")), &png);
            if std::env::var_os("RINGSIDE_UPDATE_SCREENSHOTS").is_some() {
                let docs = repo_path("docs/screenshots");
                let _ = std::fs::write(docs.join(format!("{name}.png")), &png);
            }
        }
    }

    /// Empties a field the way a person does, with Backspace: WebDriver's own `clear` fires
    /// no `input` event, so the app's next render would put the old value back.
    pub async fn clear_field(&self, css: &str) {
        self.wait(css).await;
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        let len = field
            .prop("value")
            .await
            .ok()
            .flatten()
            .map_or(0, |v| v.chars().count());
        let backspace = char::from(fantoccini::key::Key::Backspace)
            .to_string()
            .repeat(len);
        field.send_keys(&backspace).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while field
            .prop("value")
            .await
            .ok()
            .flatten()
            .is_some_and(|v| !v.is_empty())
        {
            assert!(Instant::now() < deadline, "`{css}` did not empty");
            field
                .send_keys(&char::from(fantoccini::key::Key::Backspace).to_string())
                .await
                .unwrap();
        }
    }

    /// Demo mode: a customer calls (from the number in the demo panel) and the agent answers.
    pub async fn answer_demo_call(&self) {
        self.click("#sim-incoming").await;
        self.click(".call-card[data-status=ringing] [data-action=accept]")
            .await;
        self.wait(".call-card[data-status=talking]").await;
    }

    /// Presses Alt+`key` on the page, as an agent using a shortcut.
    pub async fn alt(&self, key: char) {
        // Keys go to a focusable element; the shortcuts listen on the whole window.
        let body = self
            .client
            .find(Locator::Css("#dial-number"))
            .await
            .unwrap();
        let combo = format!(
            "{}{}{}",
            char::from(fantoccini::key::Key::Alt),
            key,
            char::from(fantoccini::key::Key::Null)
        );
        body.send_keys(&combo).await.unwrap();
    }

    /// Chooses the option with `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.retry_stale(css, |el| async move { el.select_by_value(value).await })
            .await;
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.client.find(Locator::Css(css)).await.ok()?;
        e.attr(name).await.ok().flatten()
    }

    /// Waits until the element matching `css` has attribute `name` equal to `value`.
    pub async fn wait_attr(&self, css: &str, name: &str, value: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.attr(css, name).await.as_deref() == Some(value) {
                return;
            }
            if Instant::now() >= deadline {
                self.screenshot("timeout").await;
                panic!(
                    "timed out waiting for `{css}` [{name}={value}] (now {:?})",
                    self.attr(css, name).await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Launches the app binary again on this app's profile with `args`, as a desktop does for
    /// a `tel:` link, and waits for it to exit (a second instance hands over and exits).
    pub async fn launch_again(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = tokio::process::Command::new(app_binary());
        cmd.args(args).kill_on_drop(true);
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        tokio::time::timeout(Duration::from_secs(20), cmd.output())
            .await
            .expect("a second launch exits")
            .expect("the app binary runs")
    }

    /// Waits (10 s at most) until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        eventually(10, &format!("{css} gone"), || async {
            (!self.exists(css).await).then_some(())
        })
        .await;
    }

    /// Whether an element matching `css` exists now.
    pub async fn exists(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .is_ok_and(|v| !v.is_empty())
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Closes the app and waits until its process is gone: its instance socket stops
    /// answering (the kernel closes it, and the profile's lock, at exit). For a restart on the
    /// same profile.
    pub async fn close_and_wait(self) {
        let profile = self.profile.clone();
        let _ = self.client.close().await;
        drop(self._driver);
        exited(&profile).await;
    }
}

/// Waits (20 s at most) until the Ringside on `profile` is gone: its instance socket stops
/// answering, as the kernel closes it (and the profile's lock) when the process ends.
pub async fn exited(profile: &std::path::Path) {
    let socket = ringside_desktop::instance::socket_path(profile).unwrap();
    eventually(20, "Ringside exited", || async {
        std::os::unix::net::UnixStream::connect(&socket)
            .is_err()
            .then_some(())
    })
    .await;
}

fn set_env(cmd: &mut Command, vars: &[(String, Option<String>)]) {
    for (k, v) in vars {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
}

/// What a desktop service received from the app (a notification server, a tray host),
/// drawn as that service would show it, for the docs: the same text, not a mock-up. Written
/// under `RINGSIDE_UPDATE_SCREENSHOTS` only (ImageMagick's `convert`).
pub fn render_view(name: &str, text: &str) {
    if std::env::var_os("RINGSIDE_UPDATE_SCREENSHOTS").is_none() {
        return;
    }
    let out = repo_path(&format!("docs/screenshots/{name}.png"));
    let status = Command::new("convert")
        .args([
            "-background",
            "#2d2f33",
            "-fill",
            "#f2f2f2",
            "-font",
            "DejaVu-Sans",
            "-pointsize",
            "16",
            "-interline-spacing",
            "6",
            &format!("label:{text}"),
            "-bordercolor",
            "#2d2f33",
            "-border",
            "18",
        ])
        .arg(&out)
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "convert wrote {}",
        out.display()
    );
}

/// Polls `f` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
