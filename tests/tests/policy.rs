//! IT's policy file in the real app (issue 10): a broken policy stops Ringside with the file
//! and line, on screen for an agent who started it from a menu and on the terminal; the
//! `ringside policy` report says where every value came from and what is locked, and a user's
//! attempts to get around a lock (environment, command line) are refused or ignored, said.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ringside_e2e::{app_binary, work_dir, App, Backend, Mode, SERIAL};

/// `ringside ARGS` with the policy at `policy`, a user file at `user`, and `env`.
fn ringside(
    policy: &std::path::Path,
    user: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut cmd = std::process::Command::new(app_binary());
    cmd.args(args)
        .env("RINGSIDE_SYSTEM_CONFIG", policy)
        .env("RINGSIDE_CONFIG", user)
        .env_remove("RINGSIDE_PROFILE_DIR")
        .env_remove("RINGSIDE_MODE")
        .env_remove("RINGSIDE_BACKEND_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the app binary runs")
}

#[test]
fn the_policy_report_says_where_each_value_came_from_and_what_is_locked() {
    let dir = work_dir("policy-report");
    let policy = dir.join("policy.toml");
    let user = dir.join("user.toml");
    let profile = dir.join("agent-profile");
    std::fs::write(
        &policy,
        format!(
            "mode = \"live\"\nbackend_url = \"https://crm.example.com\"\nprofile_dir = \"{}\"\nlocked = [\"backend_url\", \"profile_dir\"]\n",
            profile.display()
        ),
    )
    .unwrap();
    std::fs::write(
        &user,
        "ringtone = \"off\"\nbackend_url = \"https://mine.example\"\n",
    )
    .unwrap();
    let out = ringside(
        &policy,
        &user,
        &[
            ("RINGSIDE_LINK_ACTION", "dial"),
            ("RINGSIDE_PROFILE_DIR", "/tmp/elsewhere"),
        ],
        &["policy"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("ringside "), "{text}");
    assert!(
        text.contains(&format!("IT policy file: {}\n", policy.display())),
        "{text}"
    );
    for line in [
        "backend_url               https://crm.example.com  [IT policy, locked]".to_string(),
        format!(
            "profile_dir               {}  [IT policy, locked]",
            profile.display()
        ),
        "mode                      live  [IT policy]".to_string(),
        "ringtone                  off  [user file]".to_string(),
        "link_action               dial  [environment]".to_string(),
        "close_to_tray             true  [default]".to_string(),
        "warning: `backend_url` is locked by your IT department".to_string(),
        "warning: `profile_dir` is locked by your IT department".to_string(),
    ] {
        assert!(text.contains(&line), "{line}\n{text}");
    }
}

#[test]
fn a_broken_policy_stops_ringside_from_the_command_line_naming_the_file_and_line() {
    let dir = work_dir("policy-broken-cli");
    let policy = dir.join("policy.toml");
    let user = dir.join("user.toml");
    // An unknown key (a typo) and an unknown lock both stop it; so does bad TOML.
    for (text, said) in [
        (
            "mode = \"live\"\nbakend_url = \"https://crm.example.com\"\n",
            "Line 2",
        ),
        (
            "locked = [\"backend-url\"]\n",
            "Line 1: `locked` names \"backend-url\"",
        ),
        ("mode = \"live\n", "Line 1"),
    ] {
        std::fs::write(&policy, text).unwrap();
        let out = ringside(&policy, &user, &[], &["policy"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {err}");
        assert!(err.contains(&policy.display().to_string()), "{err}");
        assert!(err.contains(said), "{said}: {err}");
        assert!(out.stdout.is_empty(), "no report from a broken policy");
    }
}

/// Started from a menu, the agent has no terminal: the window says it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_policy_is_explained_in_the_window_and_nothing_runs_unlocked() {
    let _serial = SERIAL.lock().await;
    let dir = work_dir("policy-broken-window");
    let backend = Backend::start(&dir).await;
    let profile = dir.join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    // Where the harness points the policy for this profile.
    std::fs::write(
        profile.join("no-system-config.toml"),
        "backend_url = \"https://crm.example.com\"\nlocked = [\"backend_url\", \"webphone_location\"]\n",
    )
    .unwrap();
    let app = App::launch_with(&backend, profile.clone(), Mode::Demo).await;
    app.wait_text(".startup-error h1", |t| t == "Ringside cannot start")
        .await;
    let said = app
        .wait_text(".startup-error p", |t| t.contains("webphone_location"))
        .await;
    assert!(said.contains("no-system-config.toml"), "{said}");
    assert!(said.contains("Line 2"), "{said}");
    assert_eq!(
        app.attr(".startup-error", "data-code").await.as_deref(),
        Some("policy")
    );
    app.screenshot("34-policy-broken").await;
    // Nothing started behind the message: no database, no session at the backend.
    assert!(!profile.join("ringside.db").exists());
    app.close().await;
}
