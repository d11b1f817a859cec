//! The `webphone://` scheme: the whole world of the webphone's iframe.
//!
//! The agent's window embeds `/ringside/host.html` in a sandboxed iframe (`ui/static/relay.js`).
//! A different scheme is a different origin: the library cannot reach the agent's page, and
//! Tauri gives the frame no IPC (its scripts go into the top frame only, and every request must
//! carry the window's invoke key). `/ringside/host.html` and `/ringside/bridge.js` are
//! Ringside's own; every other path is the webphone library's folder (the customer's copy, or
//! the simulator compiled into the app), so the app cannot tell the two apart. The library is
//! a folder because it loads its own `js/lib/*.js` relative to its script. Only the agent's
//! webview is served.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use ringside_service::WebphoneSource;
use tauri::http::{header, Request, Response, StatusCode};

pub const SCHEME: &str = "webphone";
/// The webview whose page frames the webphone: the only one this scheme serves.
pub const HOST_WEBVIEW: &str = "main";

const BRIDGE_JS: &str = include_str!("../../ui/webphone/bridge.js");
const SIMULATOR_JS: &str = include_str!("../../ui/webphone-sim/webphone_api.js");

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

fn library_src(source: &WebphoneSource) -> String {
    match source {
        WebphoneSource::Url(base) => format!("{}/webphone_api.js", base.trim_end_matches('/')),
        _ => "/webphone_api.js".to_string(),
    }
}

/// The webphone frame's policy, on every HTML page `webphone://` serves, with IT's
/// `webphone_connect` list.
///
/// Scripts come only from here and from the library's own origin, but they may `eval` and run
/// inline handlers: the real library's SIP timers evaluate strings (without `'unsafe-eval'` it
/// sends REGISTER and then says "Registering..." forever: recorded in
/// tests/fixtures/traces/mizu-3.6-bridge/csp_register.1002.console.log, with 22 refused inline
/// handlers beside the EvalErrors). This is safe because of the isolation, not despite it:
/// the frame has no IPC and another origin, and all it can do is post callbacks to the
/// agent's window, which relays them as `phone_event` ingress; so script that runs here, the
/// vendor's or anything injected through it, can do no more than the vendor script already
/// can. The agent's window keeps its strict policy (tauri.conf.json: no `'unsafe-eval'`).
/// Network: the servers IT lists in `webphone_connect`; without a list, secure WebSockets to
/// any host (the SIP server comes from the backend at sign-in, after this page loaded, so it
/// cannot be named here otherwise); nothing at all for the simulator, which opens no
/// connection. No IPC. The NS engine's probe of `ws://127.0.0.1:18320` stays refused:
/// Ringside forces the WebRTC engine. Only the agent's window may frame these pages.
pub fn csp_with(source: &WebphoneSource, connect: &[String]) -> String {
    let extra = match source {
        WebphoneSource::Url(u) => origin_of(u).unwrap_or_default(),
        _ => String::new(),
    };
    let servers = match (connect.is_empty(), source) {
        (false, _) => connect.join(" "),
        (true, WebphoneSource::Simulator) => String::new(),
        (true, _) => "wss:".to_string(),
    };
    format!(
        "default-src 'self'; script-src 'self' 'unsafe-eval' 'unsafe-inline' {extra}; \
         connect-src 'self' {servers} {extra}; \
         media-src 'self' blob: mediastream: data: {extra}; img-src 'self' data: {extra}; \
         style-src 'self' 'unsafe-inline' {extra}; font-src 'self' data: {extra}; \
         object-src 'none'; base-uri 'self'; form-action 'none'; \
         frame-ancestors tauri://localhost http://tauri.localhost"
    )
}

pub fn host_page(source: &WebphoneSource) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Ringside webphone host</title></head>\n\
         <body>\n<script src=\"{}\"></script>\n<script src=\"/ringside/bridge.js\"></script>\n</body></html>\n",
        library_src(source)
    )
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    }
}

/// A URL path with its `%XX` escapes decoded (`/a%20b.js` is `a b.js` on disk); `None` for a
/// broken escape, a NUL or bytes that are not UTF-8. Decoding comes before the folder check,
/// so an escaped `..` (`%2e%2e`) is seen for what it is.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return None;
    }
    String::from_utf8(out).ok()
}

/// A path inside `root`, or `None` for anything that tries to leave it.
pub fn resolve_in(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let rel = Path::new(decoded.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let candidate = root.join(rel);
    let canon = candidate.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    canon.starts_with(&root).then_some(canon)
}

fn respond(
    status: StatusCode,
    ctype: &str,
    body: Cow<'static, [u8]>,
    csp: Option<&str>,
) -> Response<Cow<'static, [u8]>> {
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, ctype)
        .header("X-Content-Type-Options", "nosniff");
    if let Some(csp) = csp {
        b = b.header("Content-Security-Policy", csp);
    }
    b.body(body.clone()).unwrap_or_else(|_| Response::new(body))
}

/// A `webphone://` request from `webview_label`: the host page, the bridge, or a file of the
/// library; HTML pages carry the frame's policy, naming IT's `webphone_connect` servers.
pub fn serve_with(
    source: &WebphoneSource,
    connect: &[String],
    webview_label: &str,
    request: &Request<Vec<u8>>,
) -> Response<Cow<'static, [u8]>> {
    let not_found = || {
        respond(
            StatusCode::NOT_FOUND,
            "text/plain",
            Cow::Borrowed(b"not found"),
            None,
        )
    };
    if webview_label != HOST_WEBVIEW {
        return respond(
            StatusCode::FORBIDDEN,
            "text/plain",
            Cow::Borrowed(b"forbidden"),
            None,
        );
    }
    let path = request.uri().path();
    let csp = csp_with(source, connect);
    let page_csp = |path: &str| {
        content_type(path)
            .starts_with("text/html")
            .then_some(csp.as_str())
    };
    match path {
        "/ringside/host.html" => respond(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Cow::Owned(host_page(source).into_bytes()),
            Some(&csp),
        ),
        "/ringside/bridge.js" => respond(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            Cow::Borrowed(BRIDGE_JS.as_bytes()),
            None,
        ),
        _ => match source {
            WebphoneSource::Simulator if path == "/webphone_api.js" => respond(
                StatusCode::OK,
                "text/javascript; charset=utf-8",
                Cow::Borrowed(SIMULATOR_JS.as_bytes()),
                None,
            ),
            WebphoneSource::Folder(root) => match resolve_in(root, path).map(std::fs::read) {
                Some(Ok(bytes)) => respond(
                    StatusCode::OK,
                    content_type(path),
                    Cow::Owned(bytes),
                    page_csp(path),
                ),
                Some(Err(e)) => {
                    tracing::warn!(%path, error = %e, "webphone file unreadable");
                    not_found()
                }
                None => {
                    tracing::warn!(%path, "webphone path outside its folder, or missing");
                    not_found()
                }
            },
            _ => not_found(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(
        source: &WebphoneSource,
        label: &str,
        request: &Request<Vec<u8>>,
    ) -> Response<Cow<'static, [u8]>> {
        serve_with(source, &[], label, request)
    }

    fn csp(source: &WebphoneSource) -> String {
        csp_with(source, &[])
    }

    fn req(path: &str) -> Request<Vec<u8>> {
        Request::builder()
            .uri(format!("webphone://localhost{path}"))
            .body(Vec::new())
            .unwrap()
    }

    #[test]
    fn serves_only_inside_the_folder_and_only_to_the_agent_s_window() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("js/lib")).unwrap();
        std::fs::write(dir.path().join("webphone_api.js"), "var webphone_api = {};").unwrap();
        std::fs::write(dir.path().join("js/lib/api_helper.js"), "1").unwrap();
        std::fs::write(dir.path().parent().unwrap().join("secret.txt"), "no").ok();
        let src = WebphoneSource::Folder(dir.path().to_path_buf());
        assert_eq!(
            serve(&src, HOST_WEBVIEW, &req("/webphone_api.js")).status(),
            StatusCode::OK
        );
        assert_eq!(
            serve(&src, HOST_WEBVIEW, &req("/js/lib/api_helper.js")).status(),
            StatusCode::OK
        );
        assert_eq!(
            serve(&src, HOST_WEBVIEW, &req("/../secret.txt")).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            serve(&src, HOST_WEBVIEW, &req("/%2e%2e/secret.txt")).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            serve(&src, "other", &req("/webphone_api.js")).status(),
            StatusCode::FORBIDDEN
        );
        // Escapes are decoded before the folder check: a file with a space is found, and an
        // escaped way out or a broken escape is still nothing.
        std::fs::write(dir.path().join("a b.js"), "2").unwrap();
        assert_eq!(
            serve(&src, HOST_WEBVIEW, &req("/a%20b.js")).status(),
            StatusCode::OK
        );
        for bad in [
            "/%2E%2E/secret.txt",
            "/js/%2e%2e/%2e%2e/secret.txt",
            "/a%2",
            "/a%zz.js",
            "/a%00.js",
        ] {
            assert_eq!(
                serve(&src, HOST_WEBVIEW, &req(bad)).status(),
                StatusCode::NOT_FOUND,
                "{bad}"
            );
        }
        let host = serve(&src, HOST_WEBVIEW, &req("/ringside/host.html"));
        assert!(host.headers().get("Content-Security-Policy").is_some());
    }

    /// The real library needs `eval` (csp_register recording); the policy allows it in the
    /// webphone's page only, and every HTML page the scheme serves carries it.
    #[test]
    fn every_webphone_page_allows_eval_and_the_main_window_does_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("webphone_api.js"), "var webphone_api = {};").unwrap();
        std::fs::write(dir.path().join("softphone.html"), "<html></html>").unwrap();
        let src = WebphoneSource::Folder(dir.path().to_path_buf());
        for page in ["/ringside/host.html", "/softphone.html"] {
            let resp = serve(&src, HOST_WEBVIEW, &req(page));
            let policy = resp
                .headers()
                .get("Content-Security-Policy")
                .unwrap_or_else(|| panic!("{page} has no policy"))
                .to_str()
                .unwrap()
                .to_string();
            assert!(policy.contains("'unsafe-eval'"), "{page}: {policy}");
            assert!(policy.contains("form-action 'none'"), "{page}: {policy}");
            assert!(policy.contains("object-src 'none'"), "{page}: {policy}");
            assert!(!policy.contains("ipc:"), "{page}: {policy}");
            assert!(
                policy.contains("frame-ancestors tauri://localhost http://tauri.localhost"),
                "{page}: {policy}"
            );
        }
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let main = conf["app"]["security"]["csp"].as_str().unwrap();
        assert!(
            !main.contains("'unsafe-eval'") && !main.contains("'unsafe-inline' 'self'"),
            "the main window keeps its strict policy: {main}"
        );
        assert!(
            main.contains("frame-src webphone://localhost http://webphone.localhost"),
            "the agent's window frames the webphone and nothing else: {main}"
        );
        assert!(!main
            .split(';')
            .any(|d| d.trim().starts_with("script-src") && d.contains("'unsafe-inline'")));
    }

    #[test]
    fn a_url_source_is_named_in_the_csp() {
        let src = WebphoneSource::Url("https://cdn.example.com/wp/".into());
        assert!(csp(&src).contains("'unsafe-inline' https://cdn.example.com;"));
        assert!(host_page(&src).contains("https://cdn.example.com/wp/webphone_api.js"));
    }

    /// The frame reaches only what it must: IT's list when there is one, nothing beyond
    /// itself for the simulator, and any `wss:` server only for a library with no list.
    #[test]
    fn the_frame_s_connections_are_limited_to_it_s_list() {
        let folder = WebphoneSource::Folder("/opt/wp".into());
        let listed = csp_with(&folder, &["wss://pbx.example.com:8089".to_string()]);
        assert!(
            listed.contains("connect-src 'self' wss://pbx.example.com:8089 ;"),
            "{listed}"
        );
        assert!(
            !listed.contains("wss:;") && !listed.contains("wss: "),
            "{listed}"
        );
        let sim = csp_with(&WebphoneSource::Simulator, &[]);
        assert!(sim.contains("connect-src 'self'  ;"), "{sim}");
        assert!(csp_with(&folder, &[]).contains("connect-src 'self' wss: ;"));
    }
}
