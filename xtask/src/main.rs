//! `cargo xtask <task>`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `setup`: installs what a fresh Debian 12 machine needs, skipping what is present.
//! - `ui`: builds the Yew front end into `ui/dist` (wasm32 + wasm-bindgen, no trunk).
//! - `run [ARGS]`: setup, ui, build, then start Ringside (demo mode unless configured).
//! - `test`: setup, the conformance tests (node), ui, build, fmt and clippy checks, `bundle`
//!   (for the packaging tests), then every cargo test, under Xvfb.
//! - `bench [-- ARGS]`: release builds, the engine and store benchmarks, then the whole app
//!   against a bare Tauri app (footprint, launch, a 1,000-call soak, bursts of webphone
//!   callbacks); writes `docs/performance.md`. ARGS go to `app-bench` (e.g. `soak --calls 200`).
//! - `bundle`: release .deb and .rpm (installs tauri-cli on first use), then `dist/`: a signed
//!   apt repository, a signed rpm, the public keys and a signed SHA256SUMS (see `dist.rs`).

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

mod dist;

const APT_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libsoup-3.0-dev",
    "libjavascriptcoregtk-4.1-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "libxdo-dev",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "imagemagick",
    // A private session bus for the desktop tests (notifications).
    "dbus-daemon",
    // A real Secret Service for the keyring tests, and its command-line client.
    "gnome-keyring",
    "libsecret-tools",
    // Key presses from outside the window, for the global shortcuts test.
    "xdotool",
    // dist/: the signed apt repository and rpm (cargo xtask bundle), and their tests.
    "gnupg",
    "apt-utils",
    "dpkg-dev",
    "rpm",
    // A private CA and server certificate for the TLS trust tests.
    "openssl",
];
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const TAURI_DRIVER_REQ: &str = "^2";
const TAURI_CLI_REQ: &str = "^2";
const ACTION_VALIDATOR: &str = "0.9.0";
/// Checks the dependency graph against `deny.toml` (licences, sources, duplicates, advisories).
const CARGO_DENY: &str = "0.20.2";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = args.get(1..).unwrap_or(&[]).to_vec();
    let started = Instant::now();
    let result = match task {
        "setup" => setup(),
        "ui" => setup().and_then(|_| ui()),
        "run" => run(&rest),
        "test" => test(&rest),
        "bench" => bench(&rest),
        "deny" => setup().and_then(|_| deny()),
        "bundle" => setup().and_then(|_| ui()).and_then(|_| bundle()),
        _ => {
            println!("usage: cargo xtask setup|ui|run [-- APP ARGS]|test|bench|deny|bundle");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            println!(
                "xtask {task}: done in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask {task}: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The checkout `cargo xtask` was run in: the nearest directory, from the current one up,
/// whose `Cargo.toml` has a `[workspace]`. Found at run time, never compiled in: with one
/// CARGO_TARGET_DIR shared by two checkouts, a path compiled in sent one checkout's build into
/// the other's `ui/dist`.
fn root() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        find_workspace(&cwd).unwrap_or(cwd)
    })
    .clone()
}

fn find_workspace(from: &Path) -> Option<PathBuf> {
    from.ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn step(name: &str) -> Instant {
    println!("==> {name}");
    Instant::now()
}

fn done(name: &str, t: Instant) {
    println!("<== {name} ({:.1} s)", t.elapsed().as_secs_f64());
}

fn status(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let st = cmd
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{shown} exited with {st}"))
    }
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.current_dir(root()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// The exact wasm-bindgen version in Cargo.lock: the CLI must match it to the letter.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock unreadable: {e}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let at = lock
        .find(&needle)
        .ok_or_else(|| format!("{package} not in Cargo.lock"))?;
    let rest = &lock[at + needle.len()..];
    rest.split('"')
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("{package}: no version in Cargo.lock"))
}

fn installed_crates() -> String {
    output(Command::new(cargo()).args(["install", "--list"])).unwrap_or_default()
}

/// `cargo install --locked NAME --version REQ` unless `installed` (`cargo install --list`)
/// lists NAME at a version starting with `have`.
fn install_locked(installed: &str, name: &str, have: &str, req: &str) -> Result {
    if installed
        .lines()
        .any(|l| l.starts_with(&format!("{name} v{have}")))
    {
        return Ok(());
    }
    status(Command::new(cargo()).args(["install", name, "--version", req, "--locked"]))
}

fn setup() -> Result {
    let t = step("setup");
    let mut missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            !output(Command::new("dpkg-query").args(["-W", "-f=${Status}", p]))
                .is_some_and(|s| s.contains("install ok installed"))
        })
        .collect();
    // The conformance tests run on Node (any `node` will do; Debian's when there is none).
    if output(Command::new("node").arg("--version")).is_none() {
        missing.push("nodejs");
    }
    if !missing.is_empty() {
        println!("system packages missing: {}", missing.join(" "));
        if !is_root() {
            return Err(format!(
                "not root: install them with `sudo apt-get install -y {}`",
                missing.join(" ")
            ));
        }
        status(Command::new("apt-get").arg("update").arg("-qq"))
            .map_err(|e| format!("{e} (is the Debian package registry reachable?)"))?;
        status(
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends"])
                .args(&missing)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("rustup is needed to add the wasm32 target")?;
    if !targets.lines().any(|l| l.trim() == WASM_TARGET) {
        status(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    let installed = installed_crates();
    let wbg = locked_version("wasm-bindgen")?;
    if !installed.contains(&format!("wasm-bindgen-cli v{wbg}:")) {
        // Not --locked: a locked dependency of the CLI is missing from the registry.
        status(Command::new(cargo()).args(["install", "wasm-bindgen-cli", "--version", &wbg]))?;
    }
    // Lints the Windows/macOS release workflow, which only those systems' runners run.
    install_locked(
        &installed,
        "action-validator",
        ACTION_VALIDATOR,
        ACTION_VALIDATOR,
    )?;
    install_locked(&installed, "cargo-deny", CARGO_DENY, CARGO_DENY)?;
    install_locked(&installed, "tauri-driver", "2.", TAURI_DRIVER_REQ)?;
    done("setup", t);
    Ok(())
}

fn ui() -> Result {
    let t = step("ui (wasm32 + wasm-bindgen)");
    let out = Command::new(cargo())
        .args([
            "build",
            "-p",
            "ringside-ui",
            "--target",
            WASM_TARGET,
            "--profile",
            "wasm-release",
        ])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !out.status.success() {
        return Err(format!("building the UI failed ({})", out.status));
    }
    // The exact artifact cargo reports, not a path guessed inside a possibly shared target dir.
    let wasm = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == "ringside-ui")
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .collect::<Vec<_>>()
        })
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or("cargo reported no ringside-ui.wasm")?;
    let dist = root().join("ui").join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    // wasm-bindgen writes into a staging folder beside the wasm; ui/dist only gets the files
    // whose bytes changed. The app's build script reruns on any newer file in ui/dist, so
    // rewriting identical files cost a release rebuild (2 min) on every xtask run.
    let staging = wasm
        .parent()
        .map(|d| d.join("ringside-ui-dist"))
        .ok_or("the wasm has no folder")?;
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    status(
        Command::new("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "ringside-ui",
                "--out-dir",
            ])
            .arg(&staging)
            .arg(&wasm),
    )?;
    let stat = root().join("ui").join("static");
    for from in [&staging, &stat] {
        for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            copy_if_changed(&entry.path(), &dist.join(entry.file_name()))?;
        }
    }
    done("ui", t);
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> Result {
    let bytes = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    if std::fs::read(to).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(to, &bytes).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    Ok(())
}

/// Builds the app and the reference backend; returns the exact executables cargo produced.
/// Tests get these paths rather than `target/debug/<name>`: when two checkouts share a target
/// dir, the copy at `target/debug/<name>` can be the other checkout's.
fn build_app(release: bool) -> Result<Vec<(String, PathBuf)>> {
    let t = step("build app");
    let mut args = vec![
        "-p",
        "ringside",
        "-p",
        "ringside-backend",
        // Demo mode's in-process backend: `run` and the end-to-end tests need it; the
        // bundle (`cargo tauri build`) leaves it out.
        "--features",
        "ringside/demo",
    ];
    if release {
        args.extend(["--release", "--features", "ringside/custom-protocol"]);
    }
    let exes = build(&args)?;
    done("build app", t);
    Ok(exes)
}

/// `cargo build ARGS`; the executables it produced, by target name.
fn build(args: &[&str]) -> Result<Vec<(String, PathBuf)>> {
    let out = Command::new(cargo())
        .arg("build")
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build exited with {}", out.status));
    }
    let mut exes = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(name), Some(exe)) =
            (msg["target"]["name"].as_str(), msg["executable"].as_str())
        {
            exes.push((name.to_string(), PathBuf::from(exe)));
        }
    }
    Ok(exes)
}

fn exe<'a>(exes: &'a [(String, PathBuf)], name: &str) -> Result<&'a PathBuf> {
    exes.iter()
        .find(|(n, _)| n == name)
        .map(|(_, p)| p)
        .ok_or_else(|| format!("cargo built no `{name}` executable"))
}

fn run(args: &[String]) -> Result {
    setup()?;
    ui()?;
    let exes = build_app(false)?;
    let args: Vec<&String> = args.iter().filter(|a| *a != "--").collect();
    status(Command::new(exe(&exes, "ringside")?).args(args))
}

fn with_display(mut cmd: Command) -> Command {
    if std::env::var_os("DISPLAY").is_some() {
        return cmd;
    }
    let mut x = Command::new("xvfb-run");
    x.args(["-a", "-s", "-screen 0 1280x900x24"]);
    x.arg(cmd.get_program());
    x.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            x.env(k, v);
        }
    }
    cmd = x;
    cmd
}

/// The supply-chain rules of `deny.toml`. Bans, licences and sources need only the lock file and
/// always run. Advisories need the RustSec database, cloned from GitHub: where GitHub cannot be
/// reached (this project's CI machine) that check is reported as not run, loudly, and the release
/// workflow, which can reach it, runs it on every tag.
fn deny() -> Result {
    let t = step("supply chain (cargo deny)");
    // The workflow that checks advisories must run the same rules with the same tool.
    let workflow = root().join(".github/workflows/supply-chain.yml");
    let text = std::fs::read_to_string(&workflow).map_err(|e| format!("{workflow:?}: {e}"))?;
    if !text.contains(&format!("cargo-deny --version {CARGO_DENY} --locked")) {
        return Err(format!(
            "{workflow:?} does not install cargo-deny {CARGO_DENY}, the version xtask checks with"
        ));
    }
    status(Command::new(cargo()).args([
        "deny", "--locked", "check", "--deny", "warnings", "bans", "licenses", "sources",
    ]))?;
    let fetched = Command::new(cargo())
        .args(["deny", "fetch", "db"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if fetched {
        status(Command::new(cargo()).args([
            "deny",
            "--locked",
            "--offline",
            "check",
            "--deny",
            "warnings",
            "advisories",
        ]))?;
    } else {
        println!(
            "NOTE: advisories NOT checked: the RustSec database (github.com/RustSec/advisory-db) \
             cannot be fetched from this machine; the release workflow checks them"
        );
    }
    done("supply chain", t);
    Ok(())
}

fn test(args: &[String]) -> Result {
    setup()?;
    conformance()?;
    ui()?;
    let exes = build_app(false)?;
    let t = step("fmt + clippy");
    status(Command::new(cargo()).args(["fmt", "--all", "--check"]))?;
    status(Command::new(cargo()).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        "ringside/demo",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The same crate without demo mode's backend, as release bundles build it.
    status(Command::new(cargo()).args([
        "clippy",
        "-p",
        "ringside-service",
        "--lib",
        "--",
        "-D",
        "warnings",
    ]))?;
    done("fmt + clippy", t);
    deny()?;
    let t = step("workflow lint (action-validator)");
    let workflows: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .map_err(|e| format!(".github/workflows: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    status(Command::new("action-validator").args(&workflows))?;
    done("workflow lint", t);
    // The signed packages the packaging tests check (tests/tests/packages.rs): built whenever
    // those tests run, so that they check this checkout's packages, never an old dist/.
    let packages = args.is_empty()
        || args
            .iter()
            .any(|a| a.contains("packages") || a.contains("updates"));
    if packages {
        bundle()?;
        bundle_next_version()?;
    }
    let t = step("tests (end-to-end ones under Xvfb)");
    let mut cmd = Command::new(cargo());
    cmd.env("RINGSIDE_DIST", dist_dir());
    // With the features the app was built with, so that the binary the end-to-end tests start
    // is not rebuilt (and replaced) without demo mode's backend.
    cmd.args(["test", "--workspace", "--features", "ringside/demo"])
        .args(args);
    cmd.env("RINGSIDE_APP_BIN", exe(&exes, "ringside")?);
    cmd.env("RINGSIDE_BACKEND_BIN", exe(&exes, "ringside-backend")?);
    status(&mut with_display(cmd))?;
    done("tests", t);
    if args.is_empty() {
        // What only a release may do: read IT's policy from its fixed place whatever the
        // environment says. Built without debug assertions, as a release is (their own
        // artifacts; about a minute the first time, cached after).
        let t = step("policy tests as a release build");
        status(
            Command::new(cargo())
                .args(["test", "-p", "ringside-service", "--lib", "config::tests"])
                .env("CARGO_PROFILE_TEST_DEBUG_ASSERTIONS", "false"),
        )?;
        done("policy tests as a release build", t);
    }
    Ok(())
}

/// The webphone simulator and the bridge against the real library's recordings
/// (tests/conformance/README.md): Node's own test runner, no packages, no browser.
fn conformance() -> Result {
    let t = step("conformance (node --test tests/conformance/)");
    status(Command::new("node").args(["--test", "tests/conformance/"]))
        .map_err(|e| format!("conformance tests failed: {e}"))?;
    done("conformance", t);
    Ok(())
}

/// Release builds of Ringside (demo mode) and of the bare Tauri app it is measured against,
/// the core's benches, then the whole-app bench (`tests/src/bin/app-bench.rs`) under Xvfb,
/// which prints the tables and writes `docs/performance.md` with its plots.
fn bench(args: &[String]) -> Result {
    setup()?;
    ui()?;
    let t = step("bench: release builds");
    let apps = build(&[
        "--release",
        "-p",
        "ringside",
        "-p",
        "ringside-bench-bare",
        "--features",
        "ringside/demo,ringside/custom-protocol,ringside-bench-bare/custom-protocol",
    ])?;
    let driver = build(&["-p", "ringside-e2e", "--bin", "app-bench"])?;
    done("bench: release builds", t);
    let ringside = exe(&apps, "ringside")?;
    let work = ringside
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("bench"))
        .ok_or("no target dir above the release build")?;
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    let core_file = work.join("core.txt");
    // A run of chosen scenarios skips the core's benches (and does not rewrite the page).
    if args.iter().all(|a| a == "--") {
        core_benches(&core_file)?;
    }

    let t = step("bench: the whole app");
    let mut cmd = Command::new(exe(&driver, "app-bench")?);
    cmd.env("RINGSIDE_APP_BIN", ringside)
        .env("RINGSIDE_BARE_BIN", exe(&apps, "bare-tauri")?)
        .env("RINGSIDE_BENCH_DIR", &work)
        .arg("--page")
        .arg(root().join("docs").join("performance.md"))
        .arg("--core")
        .arg(&core_file)
        .args(args.iter().filter(|a| *a != "--"))
        .current_dir(root());
    // The full run says how much of the soak's growth the C allocator only holds free.
    if args.iter().all(|a| a == "--") {
        cmd.arg("--trim");
    }
    status(&mut with_display(cmd))?;
    done("bench: the whole app", t);
    Ok(())
}

/// `cargo bench` of the engine and the store, its output kept in `out` for the page.
fn core_benches(out: &Path) -> Result {
    let t = step("bench: engine and store (cargo bench)");
    let core = Command::new(cargo())
        .args(["bench", "-p", "ringside-core", "-p", "ringside-service"])
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    let core_text = String::from_utf8_lossy(&core.stdout).into_owned();
    print!("{core_text}");
    if !core.status.success() {
        return Err(format!("cargo bench exited with {}", core.status));
    }
    std::fs::write(out, core_text).map_err(|e| format!("{}: {e}", out.display()))?;
    done("bench: engine and store (cargo bench)", t);

    Ok(())
}

/// The packages and `dist/`, once `setup` and `ui` have run (the task does both first; `test`
/// has already).
fn bundle() -> Result {
    if !installed_crates()
        .lines()
        .any(|l| l.starts_with("tauri-cli v2."))
    {
        status(Command::new(cargo()).args([
            "install",
            "tauri-cli",
            "--version",
            TAURI_CLI_REQ,
            "--locked",
        ]))?;
    }
    let updater = dist::updater_key(&target_dir().join("ringside-keys"))?;
    let t = step("bundle: release build, .deb and .rpm");
    status(
        Command::new(cargo())
            .args(["tauri", "build", "--bundles", "deb,rpm"])
            // The updater's key, compiled in as the default `update_public_key`.
            .env("RINGSIDE_UPDATE_PUBLIC_KEY", &updater.public)
            .current_dir(root().join("src-tauri")),
    )?;
    done("bundle", t);
    let t = step("dist: signed apt repository, rpm and updates");
    let version = app_version()?;
    // Where IT's update server will serve dist/updates/: the folder of the channel's URL.
    let update_base = std::env::var("RINGSIDE_UPDATE_URL")
        .ok()
        .and_then(|u| u.rsplit_once('/').map(|(base, _)| base.to_string()))
        .unwrap_or_else(|| "https://updates.example.invalid/ringside".into());
    let signer = dist::make(
        &target_dir().join("release/bundle"),
        &dist_dir(),
        &version,
        &updater,
        &update_base,
    )?;
    done("dist", t);
    println!(
        "dist: {} signed by {}; updates announced at {update_base}/",
        dist_dir().display(),
        signer.fingerprint
    );
    if signer.throwaway || updater.throwaway {
        println!(
            "dist: THROW-AWAY KEYS (RINGSIDE_SIGNING_KEYS not set): for tests only, never for seats"
        );
    }
    Ok(())
}

/// The version the bundles carry (tauri.conf.json's).
fn app_version() -> Result<String> {
    let conf = root().join("src-tauri/tauri.conf.json");
    let text = std::fs::read_to_string(&conf).map_err(|e| format!("{}: {e}", conf.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", conf.display()))?;
    json["version"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{}: no version", conf.display()))
}

/// For the update test (tests/tests/updates.rs): the next version's .deb, built the same way
/// and signed with the same updater key, in `dist/test/next/`, and the public half of another
/// key in `dist/test/other-updater.key.pub`. Never part of what IT gets.
fn bundle_next_version() -> Result {
    let updater = dist::updater_key(&target_dir().join("ringside-keys"))?;
    let version = app_version()?;
    let mut parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    parts.resize(3, 0);
    let next = format!("{}.{}.{}", parts[0], parts[1], parts[2] + 1);
    let t = step("bundle: the next version's .deb, for the update test");
    status(
        Command::new(cargo())
            .args(["tauri", "build", "--bundles", "deb", "--config"])
            .arg(format!("{{\"version\":\"{next}\"}}"))
            .env("RINGSIDE_UPDATE_PUBLIC_KEY", &updater.public)
            .current_dir(root().join("src-tauri")),
    )?;
    let out = dist_dir().join("test/next");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let built = std::fs::read_dir(target_dir().join("release/bundle/deb"))
        .map_err(|e| format!("release/bundle/deb: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".deb") && n.contains(&format!("_{next}_"))
        })
        .ok_or_else(|| format!("no .deb of version {next} in release/bundle/deb"))?;
    let deb = out.join(built.file_name().unwrap_or_default());
    std::fs::copy(&built, &deb).map_err(|e| format!("{}: {e}", built.display()))?;
    dist::sign_update(&updater, &deb, &next)?;
    dist::generate_updater_key(&dist_dir().join("test/other-updater.key"))?;
    // The next version's bundle must not pass for this version's in a later `bundle`.
    let _ = std::fs::remove_file(&built);
    done("bundle: the next version", t);
    Ok(())
}

/// Where cargo puts what it builds for this checkout.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

/// What `bundle` hands to IT (never committed: `.gitignore`).
fn dist_dir() -> PathBuf {
    root().join("dist")
}
