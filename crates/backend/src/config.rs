//! Start-up options of the reference backend: the SIP settings handed out at login and the
//! agents seeded in addition to (or instead of) the demo agent. `ringside-backend --help`
//! lists the flags; `docs/backend-api.md` section 6 documents them.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

pub const DEMO_SIP_SERVER: &str = "pbx.demo.invalid";

/// What the login response's `sip` object says besides the agent's own credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipSettings {
    pub server: String,
    pub websocket_url: String,
    pub domain: String,
}

impl Default for SipSettings {
    fn default() -> Self {
        Self::for_server(DEMO_SIP_SERVER, None, None)
    }
}

impl SipSettings {
    /// The settings for `server`; the WebSocket URL defaults to Yeastar's WSS endpoint on
    /// that host (`wss://<server>:8089/ws`) and the domain to the server.
    pub fn for_server(server: &str, websocket_url: Option<&str>, domain: Option<&str>) -> Self {
        Self {
            server: server.to_string(),
            websocket_url: websocket_url
                .map(str::to_string)
                .unwrap_or_else(|| format!("wss://{server}:8089/ws")),
            domain: domain.unwrap_or(server).to_string(),
        }
    }
}

/// One agent of an `--agents` seed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSeed {
    pub username: String,
    pub password: String,
    pub name: String,
    /// The extension number the agent answers on (`1002`).
    pub extension: String,
    /// Yeastar's internal `ext_id`; defaults to the extension number.
    #[serde(default)]
    pub extension_id: Option<String>,
    /// The SIP registration name; defaults to the extension number.
    #[serde(default)]
    pub sip_username: Option<String>,
    /// The SIP registration password; defaults to `password`.
    #[serde(default)]
    pub sip_password: Option<String>,
}

impl AgentSeed {
    /// The agent's id in the backend: `agt-<extension>`, as the demo agent's `agt-1002`.
    pub fn id(&self) -> String {
        format!("agt-{}", self.extension)
    }
}

/// The `{"agents": [...]}` / `[[agents]]` form of a seed file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedTable {
    agents: Vec<AgentSeed>,
}

/// Everything `ringside-backend` can be told at start-up.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub sip: SipSettings,
    /// Upserted after the demo seed: an entry replaces any agent with the same username or
    /// extension (the demo agent included).
    pub agents: Vec<AgentSeed>,
    /// The address clients reach this backend at (`https://crm.example.com` behind a TLS
    /// proxy): the login response's `ws_url` is made from it. Unset, from the address the
    /// server listens on. Never from a request's `Host` header, which the client chooses.
    pub public_url: Option<String>,
    /// The `/admin` routes (faults, simulated PBX calls, token expiry) exist only with a token,
    /// and answer only requests that carry it (`Authorization: Bearer …`). `None`: they are
    /// absent (404), as on any server reachable from a network.
    pub admin_token: Option<String>,
    /// How costly password hashes are: a server's by default, light for a backend running
    /// inside the app or a test ([`crate::db::HashCost`]).
    pub hash_cost: crate::db::HashCost,
}

impl Options {
    /// The agent socket's address, for a server listening on `listening`.
    pub fn ws_url(&self, listening: std::net::SocketAddr) -> String {
        match &self.public_url {
            Some(base) => {
                let base = base.trim_end_matches('/');
                let ws = if let Some(rest) = base.strip_prefix("https://") {
                    format!("wss://{rest}")
                } else if let Some(rest) = base.strip_prefix("http://") {
                    format!("ws://{rest}")
                } else {
                    base.to_string()
                };
                format!("{ws}/ws/agent")
            }
            None => format!("ws://{listening}/ws/agent"),
        }
    }
}

/// Reads an `--agents` file: JSON (a list of agents, or `{"agents": [...]}`) or TOML
/// (`[[agents]]` tables). A `.toml` file is read as TOML, a `.json` file as JSON, anything else
/// as JSON and then as TOML.
pub fn load_agents(path: &Path) -> anyhow::Result<Vec<AgentSeed>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read agents file {}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let agents = match ext.as_deref() {
        Some("toml") => parse_toml(&text),
        Some("json") => parse_json(&text),
        _ => parse_json(&text).or_else(|json_err| {
            parse_toml(&text).map_err(|toml_err| {
                anyhow::anyhow!("neither JSON ({json_err}) nor TOML ({toml_err})")
            })
        }),
    }
    .with_context(|| format!("agents file {}", path.display()))?;
    validate(&agents).with_context(|| format!("agents file {}", path.display()))?;
    Ok(agents)
}

fn parse_json(text: &str) -> anyhow::Result<Vec<AgentSeed>> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    Ok(if value.is_array() {
        serde_json::from_value(value)?
    } else {
        serde_json::from_value::<SeedTable>(value)?.agents
    })
}

fn parse_toml(text: &str) -> anyhow::Result<Vec<AgentSeed>> {
    Ok(toml::from_str::<SeedTable>(text)?.agents)
}

fn validate(agents: &[AgentSeed]) -> anyhow::Result<()> {
    let mut usernames = HashSet::new();
    let mut extensions = HashSet::new();
    for (i, a) in agents.iter().enumerate() {
        let n = i + 1;
        for (field, value) in [
            ("username", &a.username),
            ("password", &a.password),
            ("name", &a.name),
            ("extension", &a.extension),
        ] {
            if value.trim().is_empty() {
                bail!("agent {n}: `{field}` is empty");
            }
        }
        if a.extension.chars().any(char::is_whitespace) {
            bail!("agent {n}: extension `{}` contains whitespace", a.extension);
        }
        if !usernames.insert(a.username.as_str()) {
            bail!("agent {n}: username `{}` appears twice", a.username);
        }
        if !extensions.insert(a.extension.as_str()) {
            bail!("agent {n}: extension `{}` appears twice", a.extension);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_demo_values() {
        let s = SipSettings::default();
        assert_eq!(s.server, "pbx.demo.invalid");
        assert_eq!(s.websocket_url, "wss://pbx.demo.invalid:8089/ws");
        assert_eq!(s.domain, "pbx.demo.invalid");
    }

    #[test]
    fn both_file_forms_parse() {
        let json = r#"[{"username": "ann", "password": "p", "name": "Ann", "extension": "1005"}]"#;
        let toml = "[[agents]]\nusername = \"ann\"\npassword = \"p\"\nname = \"Ann\"\nextension = \"1005\"\n";
        let a = parse_json(json).unwrap_or_default();
        let b = parse_toml(toml).unwrap_or_default();
        assert_eq!(a.len(), 1);
        assert_eq!(a, b);
        assert!(parse_json(r#"{"agents": [], "extra": 1}"#).is_err());
        let twice = [a[0].clone(), a[0].clone()];
        assert!(validate(&twice).is_err());
    }
}
