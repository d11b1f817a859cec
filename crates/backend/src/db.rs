//! The backend's own SQLite database: schema, seed data and queries.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::AgentSeed;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, password TEXT NOT NULL,
    name TEXT NOT NULL, extension_id TEXT NOT NULL, extension_number TEXT NOT NULL,
    sip_password TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'logged_out', reason TEXT,
    sip_username TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, agent_id TEXT NOT NULL, expires_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (token TEXT PRIMARY KEY, agent_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dispositions (code TEXT PRIMARY KEY, label TEXT NOT NULL, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pause_reasons (code TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY, phone TEXT UNIQUE NOT NULL, name TEXT NOT NULL, created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS call_logs (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, call_id TEXT NOT NULL, status TEXT NOT NULL,
    talk_seconds INTEGER NOT NULL, body TEXT NOT NULL, created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL, writes INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS call_drafts (
    call_log_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, body TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL, writes INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT NOT NULL, agent_id TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    fingerprint TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (agent_id, key)
);
";

/// How much work, and memory, one password hash takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HashCost {
    /// argon2's defaults (argon2id, 19 MiB, 2 passes): a server's.
    #[default]
    Standard,
    /// argon2id over 64 KiB, 3 passes: a backend inside the app (demo mode, with its known demo
    /// password) or a test. Demo mode's in-process backend hashed its seeded agents with the
    /// defaults at every start, and glibc kept a 19 MiB block of it: 20 MiB of the app's idle
    /// PSS (`app-bench footprint`) that a seat talking to a real backend never has. 64 KiB
    /// stays under glibc's first mmap threshold, so it is reused, not kept.
    Light,
}

impl HashCost {
    fn argon2(self) -> argon2::Argon2<'static> {
        match self {
            HashCost::Standard => argon2::Argon2::default(),
            HashCost::Light => argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon2::Params::new(64, 3, 1, None).unwrap_or_default(),
            ),
        }
    }
}

pub fn open(path: &Path, agents: &[AgentSeed], cost: HashCost) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SCHEMA)?;
    migrate(&conn)?;
    seed(&conn)?;
    seed_agents(&conn, agents, cost)?;
    hash_stored_secrets(&conn, cost)?;
    Ok(conn)
}

/// Passwords are kept as argon2 hashes, tokens as SHA-256: a copy of the database gives
/// neither a password nor a session. Seeds (and databases from older builds) write plain
/// values; this replaces each by its hash, once.
fn hash_stored_secrets(conn: &Connection, cost: HashCost) -> rusqlite::Result<()> {
    let plain: Vec<(String, String)> = conn
        .prepare("SELECT id, password FROM agents WHERE password NOT LIKE '$argon2%'")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, password) in plain {
        conn.execute(
            "UPDATE agents SET password = ?1 WHERE id = ?2",
            params![hash_password(&password, cost), id],
        )?;
    }
    for table in ["tokens", "refresh_tokens"] {
        let raw: Vec<String> = conn
            .prepare(&format!(
                "SELECT token FROM {table} WHERE length(token) <> 64"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for t in raw {
            conn.execute(
                &format!("UPDATE {table} SET token = ?1 WHERE token = ?2"),
                params![token_hash(&t), t],
            )?;
        }
    }
    Ok(())
}

/// An argon2id hash (PHC string) with a random salt.
pub fn hash_password(password: &str, cost: HashCost) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    // 16 bytes from the OS's random source (what a v4 UUID is made of).
    let Ok(salt) = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()) else {
        return String::new();
    };
    cost.argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Only an impossible parameter set fails; an unusable hash then refuses every login.
        .unwrap_or_default()
}

fn password_matches(stored: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    // The stored hash names its own parameters; verifying takes them from it.
    PasswordHash::new(stored).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// What the database keeps of a token: its SHA-256, in hex (64 characters).
pub fn token_hash(token: &str) -> String {
    sha256_hex(&[token.as_bytes()])
}

/// The SHA-256 of `parts` one after the other, in hex.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Brings a database created by an older build up to [`SCHEMA`].
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_sip_username: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info('agents') WHERE name = 'sip_username')",
        [],
        |r| r.get(0),
    )?;
    if !has_sip_username {
        conn.execute_batch("ALTER TABLE agents ADD COLUMN sip_username TEXT")?;
    }
    let has_fingerprint: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info('idempotency') WHERE name = 'fingerprint')",
        [],
        |r| r.get(0),
    )?;
    if !has_fingerprint {
        conn.execute_batch(
            "ALTER TABLE idempotency ADD COLUMN fingerprint TEXT NOT NULL DEFAULT ''",
        )?;
    }
    Ok(())
}

/// Upserts the agents of an `--agents` file. An entry replaces every other agent with the same
/// username or extension (the demo agent included); an agent's status survives a re-seed.
pub fn seed_agents(
    conn: &Connection,
    agents: &[AgentSeed],
    cost: HashCost,
) -> rusqlite::Result<()> {
    for a in agents {
        let id = a.id();
        conn.execute(
            "DELETE FROM agents WHERE (username = ?1 OR extension_number = ?2) AND id <> ?3",
            params![a.username, a.extension, id],
        )?;
        conn.execute(
            "INSERT INTO agents (id, username, password, name, extension_id, extension_number,
                                 sip_username, sip_password, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'available')
             ON CONFLICT(id) DO UPDATE SET username = excluded.username,
                 password = excluded.password, name = excluded.name,
                 extension_id = excluded.extension_id,
                 extension_number = excluded.extension_number,
                 sip_username = excluded.sip_username, sip_password = excluded.sip_password",
            params![
                id,
                a.username,
                hash_password(&a.password, cost),
                a.name,
                a.extension_id.as_deref().unwrap_or(&a.extension),
                a.extension,
                a.sip_username.as_deref().unwrap_or(&a.extension),
                a.sip_password.as_deref().unwrap_or(&a.password),
            ],
        )?;
    }
    Ok(())
}

fn seed(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute(
        // Available from the start, as an agent who has just logged in to the queues: the
        // demo's queue calls (offered only to available agents) ring at once.
        "INSERT OR IGNORE INTO agents (id, username, password, name, extension_id, extension_number, sip_password, state)
         VALUES ('agt-1002', 'demo', 'demo', 'Dana Demo', '12', '1002', 'demo-sip-secret', 'available')",
        [],
    )?;
    for (code, reason) in [("*01", "Lunch"), ("*02", "Break"), ("*03", "Wrap up")] {
        conn.execute(
            "INSERT OR IGNORE INTO pause_reasons (code, reason) VALUES (?1, ?2)",
            params![code, reason],
        )?;
    }
    for (i, (code, label)) in [
        ("resolved", "Resolved"),
        ("callback", "Callback needed"),
        ("escalated", "Escalated"),
        ("sale", "Sale"),
        ("wrong_number", "Wrong number"),
    ]
    .iter()
    .enumerate()
    {
        conn.execute(
            "INSERT OR IGNORE INTO dispositions (code, label, position) VALUES (?1, ?2, ?3)",
            params![code, label, i as i64],
        )?;
    }
    for (id, phone, name) in [
        ("ct-1", "1001", "Alice Martin"),
        ("ct-2", "1003", "Bruno Keller"),
        ("ct-3", "+442079460018", "Chloe Lambert"),
        ("ct-4", "+15550100", "Diego Alvarez"),
    ] {
        conn.execute(
            "INSERT OR IGNORE INTO contacts (id, phone, name, created_at_ms) VALUES (?1, ?2, ?3, 0)",
            params![id, phone, name],
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub extension_id: String,
    pub extension_number: String,
    #[serde(skip)]
    pub sip_username: String,
    #[serde(skip)]
    pub sip_password: String,
    #[serde(skip)]
    pub state: String,
    #[serde(skip)]
    pub reason: Option<String>,
}

const AGENT_COLUMNS: &str = "a.id, a.name, a.extension_id, a.extension_number, a.sip_password,
     a.state, a.reason, COALESCE(a.sip_username, a.extension_number)";

/// One agent, selected by `condition` over `agents a` (joined with `tokens t` when asked).
fn agent_where(
    conn: &Connection,
    from: &str,
    condition: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Option<AgentRow>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM {from} WHERE {condition}");
    conn.query_row(&sql, params, agent_row).optional()
}

pub fn agent_by_login(
    conn: &Connection,
    user: &str,
    pass: &str,
    cost: HashCost,
) -> rusqlite::Result<Option<AgentRow>> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT password FROM agents WHERE username = ?1",
            [user],
            |r| r.get(0),
        )
        .optional()?;
    // An unknown user costs the same hash as a known one: the answer's timing does not say
    // which usernames exist.
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static LIGHT_DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let decoy = match cost {
        HashCost::Standard => &DECOY,
        HashCost::Light => &LIGHT_DECOY,
    }
    .get_or_init(|| hash_password("decoy", cost));
    let matches = password_matches(stored.as_deref().unwrap_or(decoy), pass);
    if !(matches && stored.is_some()) {
        return Ok(None);
    }
    agent_where(conn, "agents a", "a.username = ?1", params![user])
}

pub fn agent_by_token(
    conn: &Connection,
    token: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<AgentRow>> {
    agent_where(
        conn,
        "tokens t JOIN agents a ON a.id = t.agent_id",
        "t.token = ?1 AND t.expires_at_ms > ?2",
        params![token_hash(token), now_ms],
    )
}

pub fn agent_by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<AgentRow>> {
    agent_where(conn, "agents a", "a.id = ?1", [id])
}

pub fn agent_by_extension(conn: &Connection, ext: &str) -> rusqlite::Result<Option<AgentRow>> {
    agent_where(conn, "agents a", "a.extension_number = ?1", [ext])
}

/// A `(code, text)` list as JSON objects `{"code": .., <label>: ..}`, in the query's order.
pub fn code_list(
    conn: &Connection,
    sql: &str,
    label: &str,
) -> rusqlite::Result<Vec<serde_json::Value>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        let text = r.get::<_, String>(1)?;
        let mut item = serde_json::json!({"code": r.get::<_, String>(0)?, label: text});
        if let Some(fr) = french(&text) {
            item["labels"] = serde_json::json!({ "fr": fr });
        }
        Ok(item)
    })?;
    rows.collect()
}

/// The reference data's labels in French: the contract carries a label per language
/// (`labels`), since the backend owns these texts and the app cannot know a customer's codes.
fn french(label: &str) -> Option<&'static str> {
    Some(match label {
        "Lunch" => "Déjeuner",
        "Break" => "Pause",
        "Wrap up" => "Fin de traitement",
        "Resolved" => "Résolu",
        "Callback needed" => "À rappeler",
        "Escalated" => "Transmis au niveau supérieur",
        "Sale" => "Vente",
        "Wrong number" => "Mauvais numéro",
        _ => return None,
    })
}

fn agent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgentRow> {
    Ok(AgentRow {
        id: r.get(0)?,
        name: r.get(1)?,
        extension_id: r.get(2)?,
        extension_number: r.get(3)?,
        sip_password: r.get(4)?,
        state: r.get(5)?,
        reason: r.get(6)?,
        sip_username: r.get(7)?,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    pub id: String,
    pub phone: String,
    pub name: String,
}

/// The contact with this phone number, created (named after the number) if there is none.
pub fn resolve_contact(
    conn: &Connection,
    phone: &str,
    now_ms: i64,
) -> rusqlite::Result<(Contact, bool)> {
    if let Some(c) = conn
        .query_row(
            "SELECT id, phone, name FROM contacts WHERE phone = ?1",
            [phone],
            |r| {
                Ok(Contact {
                    id: r.get(0)?,
                    phone: r.get(1)?,
                    name: r.get(2)?,
                })
            },
        )
        .optional()?
    {
        return Ok((c, false));
    }
    let c = Contact {
        id: format!("ct-{}", uuid::Uuid::new_v4().simple()),
        phone: phone.to_string(),
        name: phone.to_string(),
    };
    conn.execute(
        "INSERT INTO contacts (id, phone, name, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![c.id, c.phone, c.name, now_ms],
    )?;
    Ok((c, true))
}

pub fn call_logs(conn: &Connection, agent_id: &str) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = conn.prepare(
        "SELECT body, writes FROM call_logs WHERE agent_id = ?1 ORDER BY created_at_ms, id",
    )?;
    let rows = stmt.query_map([agent_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (body, writes) = row?;
        let mut v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("server_writes".into(), writes.into());
        }
        out.push(v);
    }
    Ok(out)
}

pub fn call_drafts(conn: &Connection, agent_id: &str) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = conn.prepare(
        "SELECT body FROM call_drafts WHERE agent_id = ?1 ORDER BY updated_at_ms, call_log_id",
    )?;
    let rows = stmt.query_map([agent_id], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row?).unwrap_or(Value::Null));
    }
    Ok(out)
}

pub fn contacts(conn: &Connection, query: &str) -> rusqlite::Result<Vec<Contact>> {
    let like = format!("%{}%", query.replace(['%', '_'], ""));
    let mut stmt = conn.prepare(
        "SELECT id, phone, name FROM contacts WHERE name LIKE ?1 OR phone LIKE ?1
         ORDER BY name LIMIT 200",
    )?;
    let rows = stmt.query_map([like], |r| {
        Ok(Contact {
            id: r.get(0)?,
            phone: r.get(1)?,
            name: r.get(2)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_agent(username: &str, extension: &str) -> AgentSeed {
        AgentSeed {
            username: username.into(),
            password: "pw".into(),
            name: username.into(),
            extension: extension.into(),
            extension_id: None,
            sip_username: None,
            sip_password: None,
        }
    }

    #[test]
    fn an_old_database_gains_the_new_columns_and_keeps_its_agents_and_keys() -> rusqlite::Result<()>
    {
        let dir =
            tempfile::tempdir().map_err(|e| rusqlite::Error::InvalidPath(e.to_string().into()))?;
        let path = dir.path().join("old.db");
        {
            let old = Connection::open(&path)?;
            old.execute_batch(
                "CREATE TABLE agents (
                    id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, password TEXT NOT NULL,
                    name TEXT NOT NULL, extension_id TEXT NOT NULL, extension_number TEXT NOT NULL,
                    sip_password TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'logged_out', reason TEXT);
                 INSERT INTO agents VALUES ('agt-1002', 'demo', 'demo', 'Dana Demo', '12', '1002',
                    'demo-sip-secret', 'paused', 'Lunch');
                 CREATE TABLE idempotency (
                    key TEXT NOT NULL, agent_id TEXT NOT NULL, status INTEGER NOT NULL,
                    body TEXT NOT NULL, PRIMARY KEY (agent_id, key));
                 INSERT INTO idempotency VALUES ('k-old', 'agt-1002', 201, '{}');",
            )?;
        }
        let conn = open(&path, &[seed_agent("ann", "1005")], HashCost::Light)?;
        // Keys stored before they were bound keep an empty fingerprint (replayed as before).
        let fingerprint: String = conn.query_row(
            "SELECT fingerprint FROM idempotency WHERE key = 'k-old'",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(fingerprint, "");
        let demo = agent_by_login(&conn, "demo", "demo", HashCost::Light)?;
        let demo = demo.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        assert_eq!(demo.sip_username, "1002");
        assert_eq!(demo.state, "paused", "status survives the migration");
        let ann = agent_by_login(&conn, "ann", "pw", HashCost::Light)?
            .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        assert_eq!(
            (ann.id.as_str(), ann.sip_password.as_str()),
            ("agt-1005", "pw")
        );
        // Re-seeding the demo extension replaces the demo agent.
        seed_agents(&conn, &[seed_agent("dana", "1002")], HashCost::Light)?;
        assert!(agent_by_login(&conn, "demo", "demo", HashCost::Light)?.is_none());
        assert!(agent_by_login(&conn, "dana", "pw", HashCost::Light)?.is_some());
        Ok(())
    }

    #[test]
    fn a_server_hashes_at_argon2_s_full_cost_and_an_in_process_backend_lightly() {
        let standard = hash_password("pw", HashCost::Standard);
        let light = hash_password("pw", HashCost::Light);
        assert!(
            standard.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{standard}"
        );
        assert!(light.starts_with("$argon2id$v=19$m=64,t=3,p=1$"), "{light}");
        for stored in [&standard, &light] {
            assert!(password_matches(stored, "pw"));
            assert!(!password_matches(stored, "pW"));
        }
    }
}
