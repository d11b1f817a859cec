//! One Ringside per profile. The first instance listens on a Unix socket that only its user
//! can reach (in the owner-only profile, or the user's runtime directory); a second launch on
//! the same profile hands its arguments over (a `tel:` link, `dial NUMBER`) and exits, and the
//! first comes to the front.
//!
//! Why not `tauri-plugin-single-instance`: it allows one instance per *application* (a D-Bus
//! name on Linux), where Ringside's unit is the profile, which the profile lock already
//! guards: two profiles (a trainer's and a trainee's, or the end-to-end tests running side by
//! side) may run at once, one profile never twice. It also needs a session bus on Linux, which
//! kiosk sessions may lack. The socket needs neither. Windows (a named pipe in the same role)
//! is not built yet: there a second launch meets the profile lock and says so.

use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::time::Duration;

use serde::{Deserialize, Serialize};
#[cfg(unix)]
use tracing::{info, warn};

/// A hand-over larger than this is refused: arguments are a link or a number.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// How long either side waits for the other before giving up.
#[cfg(unix)]
const TIMEOUT: Duration = Duration::from_secs(3);
/// `sockaddr_un` holds 108 bytes on Linux, 104 on macOS; keep clear of both.
const MAX_SOCKET_PATH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("no place for the instance socket: the profile's path is too long and XDG_RUNTIME_DIR is not set")]
    NoSocketPath,
    #[error("the running Ringside did not take the request: {0}")]
    Refused(String),
    #[error("the instance socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("one instance per profile is not built for this system yet")]
    Unsupported,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(not(unix), allow(dead_code))]
struct HandOver {
    args: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(not(unix), allow(dead_code))]
struct Answer {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

/// Where the instance on `profile` listens.
pub fn socket_path(profile: &Path) -> Result<PathBuf, InstanceError> {
    let in_profile = profile.join("instance.sock");
    if in_profile.as_os_str().len() < MAX_SOCKET_PATH {
        return Ok(in_profile);
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").ok_or(InstanceError::NoSocketPath)?;
    let canonical = std::fs::canonicalize(profile).unwrap_or_else(|_| profile.to_path_buf());
    let path = PathBuf::from(runtime).join(format!(
        "ringside-{:016x}.sock",
        fnv1a(canonical.as_os_str().as_encoded_bytes())
    ));
    if path.as_os_str().len() < MAX_SOCKET_PATH {
        Ok(path)
    } else {
        Err(InstanceError::NoSocketPath)
    }
}

/// A short, stable name for `profile`, for per-profile files outside it (the window's saved
/// size and place live in the app's config folder).
pub fn profile_key(profile: &Path) -> String {
    let canonical = std::fs::canonicalize(profile).unwrap_or_else(|_| profile.to_path_buf());
    format!("{:016x}", fnv1a(canonical.as_os_str().as_encoded_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Hands `args` to the Ringside running on `profile`: `Ok(true)` when it took them,
/// `Ok(false)` when none runs there (the caller is the first).
#[cfg(unix)]
pub fn hand_over(profile: &Path, args: &[String]) -> Result<bool, InstanceError> {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixStream;

    let path = socket_path(profile)?;
    let io = |source| InstanceError::Io {
        path: path.clone(),
        source,
    };
    let mut stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        // No socket, or one left by an instance that died: nobody is listening.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(false)
        }
        Err(e) => return Err(io(e)),
    };
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    let mut line = serde_json::to_vec(&HandOver {
        args: args.to_vec(),
    })
    .map_err(|e| InstanceError::Refused(e.to_string()))?;
    if line.len() > MAX_MESSAGE {
        return Err(InstanceError::Refused("the arguments are too long".into()));
    }
    line.push(b'\n');
    stream.write_all(&line).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(stream.take_limit())
        .read_line(&mut answer)
        .map_err(io)?;
    match serde_json::from_str::<Answer>(&answer) {
        Ok(Answer { ok: true, .. }) => Ok(true),
        Ok(Answer { error, .. }) => Err(InstanceError::Refused(
            error.unwrap_or_else(|| "no reason given".into()),
        )),
        Err(e) => Err(InstanceError::Refused(format!("unreadable answer: {e}"))),
    }
}

#[cfg(not(unix))]
pub fn hand_over(_profile: &Path, _args: &[String]) -> Result<bool, InstanceError> {
    Ok(false)
}

#[cfg(unix)]
trait TakeLimit {
    fn take_limit(self) -> std::io::Take<Self>
    where
        Self: Sized;
}

#[cfg(unix)]
impl<R: std::io::Read> TakeLimit for R {
    fn take_limit(self) -> std::io::Take<Self> {
        self.take(MAX_MESSAGE as u64 + 1)
    }
}

/// The first instance's side: arguments handed over by later launches reach `on_args`, on a
/// thread of its own. The socket is removed when this is dropped.
#[derive(Debug)]
pub struct Listener {
    path: PathBuf,
}

impl Listener {
    /// Call only while holding the profile's lock: a socket already there is a dead
    /// instance's, and is replaced.
    #[cfg(unix)]
    pub fn start(
        profile: &Path,
        on_args: impl Fn(Vec<String>) -> Result<(), String> + Send + 'static,
    ) -> Result<Listener, InstanceError> {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::net::UnixListener;

        let path = socket_path(profile)?;
        let io = |source| InstanceError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::remove_file(&path) {
            Ok(()) => info!(path = %path.display(), "a dead instance's socket replaced"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let listener = UnixListener::bind(&path).map_err(io)?;
        // The directory is the user's own already; the socket says so too.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        std::thread::Builder::new()
            .name("ringside-instance".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    match stream {
                        Ok(s) => serve(s, &on_args),
                        Err(e) => warn!(error = %e, "instance socket: accept failed"),
                    }
                }
            })
            .map_err(io)?;
        info!(path = %path.display(), "listening for later launches");
        Ok(Listener { path })
    }

    #[cfg(not(unix))]
    pub fn start(
        _profile: &Path,
        _on_args: impl Fn(Vec<String>) -> Result<(), String> + Send + 'static,
    ) -> Result<Listener, InstanceError> {
        Err(InstanceError::Unsupported)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One later launch: a line of JSON in, a line of JSON out. A client that sends garbage, too
/// much or nothing gets an answer or a closed socket, never the listener stuck.
#[cfg(unix)]
fn serve(
    stream: std::os::unix::net::UnixStream,
    on_args: &impl Fn(Vec<String>) -> Result<(), String>,
) {
    use std::io::{BufRead, BufReader, Write};

    let _ = stream.set_read_timeout(Some(TIMEOUT));
    let _ = stream.set_write_timeout(Some(TIMEOUT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut line = String::new();
    let read = BufReader::new(stream.take_limit()).read_line(&mut line);
    let answer = match read {
        Err(e) => Answer {
            ok: false,
            error: Some(format!("unreadable: {e}")),
        },
        Ok(_) if line.len() > MAX_MESSAGE => Answer {
            ok: false,
            error: Some("too long".into()),
        },
        Ok(_) => match serde_json::from_str::<HandOver>(&line) {
            Err(e) => Answer {
                ok: false,
                error: Some(format!("not a hand-over: {e}")),
            },
            Ok(h) => match on_args(h.args) {
                Ok(()) => Answer {
                    ok: true,
                    error: None,
                },
                Err(e) => Answer {
                    ok: false,
                    error: Some(e),
                },
            },
        },
    };
    if !answer.ok {
        warn!(error = ?answer.error, "a later launch's request refused");
    }
    if let Ok(mut out) = serde_json::to_vec(&answer) {
        out.push(b'\n');
        let _ = writer.write_all(&out);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::mpsc;

    #[test]
    fn a_second_launch_hands_its_arguments_to_the_first() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            !hand_over(dir.path(), &["x".into()]).unwrap(),
            "none running"
        );
        let (tx, rx) = mpsc::channel();
        let listener = Listener::start(dir.path(), move |args| {
            tx.send(args).map_err(|e| e.to_string())
        })
        .unwrap();
        assert!(hand_over(dir.path(), &["tel:+15550100".into()]).unwrap());
        assert_eq!(rx.recv().unwrap(), ["tel:+15550100"]);
        let path = listener.path().to_path_buf();
        drop(listener);
        assert!(!path.exists());
        assert!(
            !hand_over(dir.path(), &[]).unwrap(),
            "gone with the instance"
        );
    }

    #[test]
    fn a_dead_instances_socket_is_replaced_and_refusals_come_back() {
        let dir = tempfile::tempdir().unwrap();
        // A socket file nobody listens on, as a crash leaves it.
        drop(std::os::unix::net::UnixListener::bind(dir.path().join("instance.sock")).unwrap());
        assert!(!hand_over(dir.path(), &[]).unwrap());
        let _listener =
            Listener::start(dir.path(), |_| Err("not signed in yet".to_string())).unwrap();
        match hand_over(dir.path(), &["dial".into()]) {
            Err(InstanceError::Refused(why)) => assert_eq!(why, "not signed in yet"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_and_floods_get_an_answer_and_the_listener_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let _listener = Listener::start(dir.path(), move |args| {
            tx.send(args).map_err(|e| e.to_string())
        })
        .unwrap();
        let path = socket_path(dir.path()).unwrap();
        for junk in [b"{not json\n".to_vec(), vec![b'a'; MAX_MESSAGE + 10]] {
            let mut s = std::os::unix::net::UnixStream::connect(&path).unwrap();
            let _ = s.write_all(&junk);
            let _ = s.write_all(b"\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            assert!(answer.contains("\"ok\":false"), "{answer}");
        }
        assert!(hand_over(dir.path(), &["1002".into()]).unwrap());
        assert_eq!(rx.recv().unwrap(), ["1002"]);
    }

    #[test]
    fn a_long_profile_path_listens_in_the_runtime_directory() {
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("p".repeat(120));
        let path = socket_path(&long);
        match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(rt) => {
                let path = path.unwrap();
                assert!(path.starts_with(rt));
                assert_eq!(path, socket_path(&long).unwrap(), "the same every time");
            }
            None => assert!(matches!(path, Err(InstanceError::NoSocketPath))),
        }
    }
}
