//! `ringside-backend --listen HOST:PORT [--db PATH] [SIP and agent options]`: the reference
//! backend as a process. `--help` lists the options.

use std::net::SocketAddr;
use std::path::PathBuf;

use ringside_backend::config::{self, Options, SipSettings};

const HELP: &str = "\
ringside-backend: the Ringside reference CRM backend (docs/backend-api.md)

usage: ringside-backend --listen HOST:PORT [--db PATH]
                        [--sip-server HOST] [--sip-websocket-url URL] [--sip-domain DOMAIN]
                        [--agents FILE] [--public-url URL] [--admin-token-file FILE]

  --listen HOST:PORT       address to serve on; port 0 picks a free port. The first line on
                           stdout is `listening on http://HOST:PORT`.
  --db PATH                SQLite database (default: a new file in the temp directory).
  --sip-server HOST        `sip.server` in the login response (default: pbx.demo.invalid).
  --sip-websocket-url URL  `sip.websocket_url` (default: wss://<sip-server>:8089/ws).
  --sip-domain DOMAIN      `sip.domain` (default: the SIP server).
  --agents FILE            agents to seed, JSON or TOML, each
                           {username, password, name, extension, extension_id?,
                            sip_username?, sip_password?}. They are added to the demo agent
                           (demo/demo, extension 1002); an entry with the username or the
                           extension of an existing agent replaces it. sip_username defaults
                           to the extension, sip_password to password.
  --public-url URL         the address clients reach this server at (https://crm.example.com
                           behind a TLS proxy); the login's ws_url is made from it. Default:
                           the address it listens on. Never taken from a request's Host.
  --admin-token-file FILE  turns on the /admin routes (faults, simulated PBX calls), which
                           then need `Authorization: Bearer <the file's first line>` (16
                           characters at least). Without it they do not exist (404).
  -h, --help               this text.
";

fn usage(problem: &str) -> ! {
    eprintln!("ringside-backend: {problem}\n\n{HELP}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut listen: Option<SocketAddr> = None;
    let mut db: Option<PathBuf> = None;
    let mut sip_server: Option<String> = None;
    let mut sip_ws: Option<String> = None;
    let mut sip_domain: Option<String> = None;
    let mut agents: Option<PathBuf> = None;
    let mut public_url: Option<String> = None;
    let mut admin_token: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--listen" => {
                let v = value();
                listen = Some(
                    v.parse()
                        .unwrap_or_else(|_| usage(&format!("--listen: bad address `{v}`"))),
                );
            }
            "--db" => db = Some(PathBuf::from(value())),
            "--sip-server" => sip_server = Some(value()),
            "--sip-websocket-url" => sip_ws = Some(value()),
            "--sip-domain" => sip_domain = Some(value()),
            "--agents" => agents = Some(PathBuf::from(value())),
            "--admin-token-file" => {
                let path = value();
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| usage(&format!("--admin-token-file {path}: {e}")));
                let token = text.lines().next().unwrap_or("").trim().to_string();
                if token.len() < 16 {
                    usage("--admin-token-file: the token must be 16 characters at least");
                }
                admin_token = Some(token);
            }
            "--public-url" => {
                let v = value();
                if !(v.starts_with("https://") || v.starts_with("http://")) {
                    usage(&format!("--public-url: `{v}` is not an http(s) address"));
                }
                public_url = Some(v);
            }
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            other => usage(&format!("unknown argument `{other}`")),
        }
    }
    let Some(listen) = listen else {
        usage("--listen is required")
    };
    let db = db.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ringside-backend-{}.db", std::process::id()))
    });
    let options = Options {
        sip: SipSettings::for_server(
            sip_server.as_deref().unwrap_or(config::DEMO_SIP_SERVER),
            sip_ws.as_deref(),
            sip_domain.as_deref(),
        ),
        agents: match agents {
            Some(path) => config::load_agents(&path)?,
            None => Vec::new(),
        },
        public_url,
        admin_token,
        // A server people sign in to over a network: argon2's full cost.
        hash_cost: ringside_backend::db::HashCost::Standard,
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    if let Some(warning) = exposure_warning(addr, options.admin_token.is_some()) {
        eprintln!("{warning}");
    }
    // Tests read this line to learn the port when they ask for port 0.
    println!("listening on http://{addr}");
    ringside_backend::serve_with(listener, &db, &options).await
}

/// What an operator must read when this backend listens beyond this computer: it speaks plain
/// HTTP, and (with an admin token) its fault routes can break it for everyone.
fn exposure_warning(addr: std::net::SocketAddr, admin: bool) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        let admin = if admin {
            " The /admin routes (faults, simulated calls) are on: anyone with the admin token \
             can make this server fail."
        } else {
            ""
        };
        format!(
            "warning: serving plain HTTP on {addr}, beyond this computer. Passwords, tokens and \
             call data travel unencrypted. Use it in a lab only, behind a TLS proxy.{admin}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::exposure_warning;

    #[test]
    fn listening_beyond_loopback_is_warned_about() {
        assert_eq!(
            exposure_warning("127.0.0.1:8080".parse().unwrap(), true),
            None
        );
        assert_eq!(exposure_warning("[::1]:8080".parse().unwrap(), true), None);
        let w = exposure_warning("0.0.0.0:8080".parse().unwrap(), true).unwrap();
        assert!(w.contains("plain HTTP") && w.contains("/admin"), "{w}");
        let w = exposure_warning("192.0.2.10:8080".parse().unwrap(), false).unwrap();
        assert!(!w.contains("/admin"), "{w}");
    }
}
