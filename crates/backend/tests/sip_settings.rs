//! The login response's `sip` object follows the binary's flags and `--agents` seed file, so
//! Ringside can be pointed at a real registrar end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use serde_json::json;

#[tokio::test]
async fn login_carries_the_demo_sip_settings_by_default() {
    let server = common::start(&[]);
    let (status, session) = common::login(&server.url, "demo", "demo").await;
    assert_eq!(status, 200);
    assert_eq!(
        session["sip"],
        json!({"server": "pbx.demo.invalid", "websocket_url": "wss://pbx.demo.invalid:8089/ws",
               "username": "1002", "password": "demo-sip-secret", "domain": "pbx.demo.invalid"})
    );
}

#[tokio::test]
async fn login_carries_the_sip_flags_and_json_seed_agents() {
    let (_dir, file) = common::write_file(
        "agents.json",
        r#"{"agents": [
            {"username": "ann", "password": "ann-pw", "name": "Ann Agent", "extension": "1005",
             "sip_username": "ann-sip", "sip_password": "ann-sip-pw"},
            {"username": "bo", "password": "bo-pw", "name": "Bo", "extension": "1006",
             "extension_id": "36"}
        ]}"#,
    );
    let server = common::start(&[
        "--sip-server",
        "pbx.example.com",
        "--sip-websocket-url",
        "wss://pbx.example.com:8443/ws",
        "--sip-domain",
        "example.com",
        "--agents",
        file.to_str().unwrap(),
    ]);
    let (status, ann) = common::login(&server.url, "ann", "ann-pw").await;
    assert_eq!(status, 200);
    assert_eq!(
        ann["sip"],
        json!({"server": "pbx.example.com", "websocket_url": "wss://pbx.example.com:8443/ws",
               "username": "ann-sip", "password": "ann-sip-pw", "domain": "example.com"})
    );
    assert_eq!(
        ann["agent"],
        json!({"id": "agt-1005", "name": "Ann Agent", "extension_id": "1005",
               "extension_number": "1005"})
    );
    // Defaults: SIP name = extension, SIP password = password.
    let (_, bo) = common::login(&server.url, "bo", "bo-pw").await;
    assert_eq!(bo["sip"]["username"], "1006");
    assert_eq!(bo["sip"]["password"], "bo-pw");
    assert_eq!(bo["agent"]["extension_id"], "36");
    // The file extends the demo seed.
    let (status, demo) = common::login(&server.url, "demo", "demo").await;
    assert_eq!(status, 200);
    assert_eq!(demo["sip"]["server"], "pbx.example.com");
    // A queue call to a seeded extension reaches that agent's socket.
    let token = ann["token"].as_str().unwrap();
    let mut ws = common::Ws::connect(&server.url, token).await;
    let r = common::http()
        .post(format!("{}/admin/queue-call", server.url))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&json!({"caller": "94424722", "agent_extension": "1005"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let frame = ws.next().await;
    assert_eq!(frame["type"], "call_queue_info");
    assert!(frame["channel_id"]
        .as_str()
        .unwrap()
        .starts_with("PJSIP/1005-"));
}

#[tokio::test]
async fn sip_server_flag_alone_derives_the_websocket_url_and_domain() {
    let server = common::start(&["--sip-server", "192.0.2.10"]);
    let (_, session) = common::login(&server.url, "demo", "demo").await;
    assert_eq!(session["sip"]["server"], "192.0.2.10");
    assert_eq!(session["sip"]["websocket_url"], "wss://192.0.2.10:8089/ws");
    assert_eq!(session["sip"]["domain"], "192.0.2.10");
}

#[tokio::test]
async fn toml_seed_file_replaces_the_demo_agent_on_its_extension() {
    let (_dir, file) = common::write_file(
        "agents.toml",
        "[[agents]]\nusername = \"dana\"\npassword = \"s3cret\"\nname = \"Dana Real\"\n\
         extension = \"1002\"\nsip_password = \"reg-pw\"\n",
    );
    let server = common::start(&["--agents", file.to_str().unwrap()]);
    let (status, _) = common::login(&server.url, "demo", "demo").await;
    assert_eq!(status, 401, "the demo agent on 1002 was replaced");
    let (status, dana) = common::login(&server.url, "dana", "s3cret").await;
    assert_eq!(status, 200);
    assert_eq!(dana["agent"]["id"], "agt-1002");
    assert_eq!(dana["agent"]["name"], "Dana Real");
    assert_eq!(dana["sip"]["username"], "1002");
    assert_eq!(dana["sip"]["password"], "reg-pw");
    assert_eq!(dana["sip"]["server"], "pbx.demo.invalid");
}

#[test]
fn a_bad_agents_file_stops_the_binary_with_a_reason() {
    let (_dir, file) = common::write_file(
        "agents.json",
        r#"[{"username": "ann", "password": "", "name": "Ann", "extension": "1005"}]"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ringside-backend"))
        .args(["--listen", "127.0.0.1:0", "--agents"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("password"), "{err}");
    assert!(out.stdout.is_empty(), "it never listened");
}

#[test]
fn help_lists_the_sip_and_agent_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_ringside-backend"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--db",
        "--sip-server",
        "--sip-websocket-url",
        "--sip-domain",
        "--agents",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
