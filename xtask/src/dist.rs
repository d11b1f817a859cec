//! `dist/`: what `cargo xtask bundle` hands to IT, signed.
//!
//! ```text
//! dist/
//!   ringside_<v>_amd64.deb          the Debian package (apt's trust is the signed repository)
//!   ringside-<v>-1.x86_64.rpm       signed with rpmsign (rpm -K checks it)
//!   apt/                            an apt repository: `deb [signed-by=…] <url> stable main`
//!     dists/stable/{InRelease,Release,Release.gpg}
//!     dists/stable/main/binary-amd64/{Packages,Packages.gz}
//!     pool/main/ringside_<v>_amd64.deb
//!   keys/ringside-archive.gpg       the public key, binary, for apt's signed-by
//!   keys/ringside-release.asc       the same key, armoured, for `rpm --import`
//!   keys/updater.pub                the updater's minisign public key (`update_public_key`)
//!   updates/latest.json             what the updater asks for, naming the packages below
//!   updates/<the .deb and .rpm>, .sig  the packages, each with its minisign signature
//!   SHA256SUMS, SHA256SUMS.asc      every file above, and its signature
//! ```
//!
//! The signing key comes from `$RINGSIDE_SIGNING_KEYS/release-key.asc` (an armoured OpenPGP
//! secret key; `$RINGSIDE_SIGNING_PASSPHRASE` if it has one). Without it, a throw-away key is
//! made for this run and the output says so: such packages are for tests, never for seats.
//! Either way the secret key lives only in a temporary GnuPG home, removed at the end. The
//! updater's own key (minisign, Tauri's format) is [`UpdaterKey`].

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{output, status, Result};

const SUITE: &str = "stable";
const COMPONENT: &str = "main";
const ARCH: &str = "amd64";

/// A GnuPG home of its own, removed when dropped (it may hold a secret key).
struct GnupgHome(PathBuf);

impl Drop for GnupgHome {
    fn drop(&mut self) {
        // The agent first: it holds the key in memory.
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.0)
            .status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl GnupgHome {
    fn new() -> Result<Self> {
        // Short, under /tmp: gpg-agent's socket path must fit in sockaddr_un.
        let dir = std::env::temp_dir().join(format!("ringside-gnupg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        Ok(Self(dir))
    }

    /// gpg in this home, never prompting; the passphrase, when the key has one, from a file
    /// in the home (never on a command line, where `ps` would show it).
    fn gpg(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", &self.0);
        c.args(self.batch_args());
        c
    }

    fn batch_args(&self) -> Vec<String> {
        let mut a: Vec<String> = ["--batch", "--yes", "--pinentry-mode", "loopback"]
            .map(String::from)
            .to_vec();
        if self.passphrase_file().is_file() {
            a.push("--passphrase-file".into());
            a.push(self.passphrase_file().display().to_string());
        }
        a
    }

    fn passphrase_file(&self) -> PathBuf {
        self.0.join("passphrase")
    }
}

/// Which key signed: its fingerprint, and whether it is a throw-away one.
pub struct Signer {
    pub fingerprint: String,
    pub throwaway: bool,
}

/// Makes `dist` from the bundler's `.deb` and `.rpm` of `version` in `bundle_dir`, with the
/// updater's files signed by `updater` and announced at `update_base`.
pub fn make(
    bundle_dir: &Path,
    dist: &Path,
    version: &str,
    updater: &UpdaterKey,
    update_base: &str,
) -> Result<Signer> {
    let deb = only_file(&bundle_dir.join("deb"), ".deb")?;
    let rpm = only_file(&bundle_dir.join("rpm"), ".rpm")?;
    let _ = std::fs::remove_dir_all(dist);
    for d in ["keys", "apt/pool/main"] {
        mkdir(&dist.join(d))?;
    }
    let home = GnupgHome::new()?;
    if let Ok(p) = std::env::var("RINGSIDE_SIGNING_PASSPHRASE") {
        write(&home.passphrase_file(), p.as_bytes())?;
    }
    let signer = import_or_make_key(&home)?;
    let fpr = signer.fingerprint.clone();

    status(
        home.gpg()
            .args(["--output"])
            .arg(dist.join("keys/ringside-archive.gpg"))
            .args(["--export", &fpr]),
    )?;
    status(
        home.gpg()
            .args(["--armor", "--output"])
            .arg(dist.join("keys/ringside-release.asc"))
            .args(["--export", &fpr]),
    )?;

    // The packages.
    let deb_name = file_name(&deb)?;
    let rpm_name = file_name(&rpm)?;
    copy(&deb, &dist.join(&deb_name))?;
    copy(&deb, &dist.join("apt/pool/main").join(&deb_name))?;
    copy(&rpm, &dist.join(&rpm_name))?;
    status(
        Command::new("rpmsign")
            .arg("--addsign")
            .args(["--define", &format!("_gpg_name {fpr}")])
            .args(["--define", &format!("_gpg_path {}", home.0.display())])
            // Debian's rpm names gpg2, which Debian does not ship under that name.
            .args(["--define", &format!("__gpg {}", gpg_path()?)])
            .args([
                "--define",
                &format!("_gpg_sign_cmd_extra_args {}", home.batch_args().join(" ")),
            ])
            .arg(dist.join(&rpm_name))
            .env("GNUPGHOME", &home.0),
    )
    .map_err(|e| format!("rpmsign: {e}"))?;

    // The apt repository: index, release file, signatures.
    let apt = dist.join("apt");
    let binary = apt.join(format!("dists/{SUITE}/{COMPONENT}/binary-{ARCH}"));
    mkdir(&binary)?;
    let packages = output_in(
        &apt,
        Command::new("dpkg-scanpackages").args(["--multiversion", "pool", "/dev/null"]),
    )?;
    write(&binary.join("Packages"), packages.as_bytes())?;
    status(
        Command::new("sh")
            .args(["-c", "gzip -9nc Packages > Packages.gz"])
            .current_dir(&binary),
    )?;
    let release = output_in(
        &apt,
        Command::new("apt-ftparchive")
            .args(["-o", "APT::FTPArchive::Release::Origin=Ringside"])
            .args(["-o", "APT::FTPArchive::Release::Label=Ringside"])
            .args(["-o", &format!("APT::FTPArchive::Release::Suite={SUITE}")])
            .args(["-o", &format!("APT::FTPArchive::Release::Codename={SUITE}")])
            .args([
                "-o",
                &format!("APT::FTPArchive::Release::Components={COMPONENT}"),
            ])
            .args([
                "-o",
                &format!("APT::FTPArchive::Release::Architectures={ARCH}"),
            ])
            .args(["release", &format!("dists/{SUITE}")]),
    )?;
    let suite = apt.join(format!("dists/{SUITE}"));
    write(&suite.join("Release"), release.as_bytes())?;
    sign(
        &home,
        &fpr,
        "--clearsign",
        &suite.join("InRelease"),
        &suite.join("Release"),
    )?;
    sign(
        &home,
        &fpr,
        "--detach-sign",
        &suite.join("Release.gpg"),
        &suite.join("Release"),
    )?;

    write_updates(dist, updater, version, update_base)?;

    // One list of every file and its hash, signed: what Windows-less IT can check by hand.
    let sums = output_in(
        dist,
        Command::new("sh").args(["-c", "find . -type f ! -name 'SHA256SUMS*' -printf '%P\\n' | LC_ALL=C sort | xargs sha256sum"]),
    )?;
    write(&dist.join("SHA256SUMS"), sums.as_bytes())?;
    sign(
        &home,
        &fpr,
        "--detach-sign",
        &dist.join("SHA256SUMS.asc"),
        &dist.join("SHA256SUMS"),
    )?;
    Ok(signer)
}

/// `input` signed by `fpr` into `out`: `--clearsign` (InRelease) or an armoured
/// `--detach-sign`, SHA-512 either way.
fn sign(home: &GnupgHome, fpr: &str, how: &str, out: &Path, input: &Path) -> Result {
    status(
        home.gpg()
            .args([
                "--digest-algo",
                "SHA512",
                "--local-user",
                fpr,
                "--armor",
                how,
            ])
            .arg("--output")
            .arg(out)
            .arg(input),
    )
}

fn import_or_make_key(home: &GnupgHome) -> Result<Signer> {
    let given = std::env::var_os("RINGSIDE_SIGNING_KEYS").map(PathBuf::from);
    let throwaway = match &given {
        Some(dir) => {
            let key = dir.join("release-key.asc");
            if !key.is_file() {
                return Err(format!(
                    "RINGSIDE_SIGNING_KEYS is set but {} is not there",
                    key.display()
                ));
            }
            status(home.gpg().arg("--import").arg(&key))?;
            false
        }
        None => {
            status(home.gpg().args([
                "--passphrase",
                "",
                "--quick-generate-key",
                "Ringside throw-away test key (not for release) <signing@ringside.invalid>",
                "ed25519",
                "sign",
                "1d",
            ]))?;
            true
        }
    };
    let listed = output(Command::new("gpg").env("GNUPGHOME", &home.0).args([
        "--batch",
        "--with-colons",
        "--list-secret-keys",
    ]))
    .ok_or("gpg --list-secret-keys failed")?;
    let fingerprint = listed
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|l| l.split(':').find(|f| !f.is_empty()))
        .map(str::to_string)
        .ok_or("no secret key to sign with")?;
    Ok(Signer {
        fingerprint,
        throwaway,
    })
}

/// gpg's full path: rpm executes it without searching PATH.
fn gpg_path() -> Result<String> {
    output(Command::new("sh").args(["-c", "command -v gpg"]))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| "gpg is not installed (cargo xtask setup installs gnupg)".to_string())
}

fn only_file(dir: &Path, ext: &str) -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    // The newest, if an older version's package is still there.
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    found
        .pop()
        .ok_or_else(|| format!("no {ext} in {}", dir.display()))
}

fn file_name(p: &Path) -> Result<String> {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{} has no file name", p.display()))
}

fn mkdir(p: &Path) -> Result {
    std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn copy(from: &Path, to: &Path) -> Result {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("{} → {}: {e}", from.display(), to.display()))
}

fn write(p: &Path, bytes: &[u8]) -> Result {
    std::fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))
}

fn output_in(dir: &Path, cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{shown} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The updater's minisign key (Tauri's base64 form, as `cargo tauri signer generate` writes
/// it): `$RINGSIDE_SIGNING_KEYS/updater.key` and `updater.key.pub`, its password in
/// `$RINGSIDE_UPDATER_KEY_PASSWORD`. Without the variable, a throw-away key kept in the target
/// directory (`cache`), so that the public key compiled into test builds stays the same from
/// one run to the next and the app is not rebuilt for a new key every time.
pub struct UpdaterKey {
    pub path: PathBuf,
    password: String,
    /// The public key, as the policy's `update_public_key` and the build take it.
    pub public: String,
    pub throwaway: bool,
}

pub fn updater_key(cache: &Path) -> Result<UpdaterKey> {
    if let Some(dir) = std::env::var_os("RINGSIDE_SIGNING_KEYS").map(PathBuf::from) {
        let path = dir.join("updater.key");
        let public = std::fs::read_to_string(dir.join("updater.key.pub"))
            .map_err(|e| format!("RINGSIDE_SIGNING_KEYS: updater.key.pub: {e}"))?;
        if !path.is_file() {
            return Err(format!(
                "RINGSIDE_SIGNING_KEYS is set but {} is not there",
                path.display()
            ));
        }
        return Ok(UpdaterKey {
            path,
            password: std::env::var("RINGSIDE_UPDATER_KEY_PASSWORD").unwrap_or_default(),
            public: public.trim().to_string(),
            throwaway: false,
        });
    }
    let path = cache.join("throwaway-updater.key");
    if !path.is_file() || !cache.join("throwaway-updater.key.pub").is_file() {
        generate_updater_key(&path)?;
    }
    let public = std::fs::read_to_string(cache.join("throwaway-updater.key.pub"))
        .map_err(|e| format!("{}.pub: {e}", path.display()))?;
    Ok(UpdaterKey {
        path,
        password: String::new(),
        public: public.trim().to_string(),
        throwaway: true,
    })
}

/// A new minisign key pair without a password at `path` and `path.pub`.
pub fn generate_updater_key(path: &Path) -> Result {
    if let Some(dir) = path.parent() {
        mkdir(dir)?;
    }
    status(
        Command::new(crate::cargo())
            .args(["tauri", "signer", "generate", "--ci", "--force", "-p", ""])
            .arg("-w")
            .arg(path),
    )
}

/// Signs `file` for the updater, bound to `version` (the updater refuses a signature made for
/// another version than the one its channel announces): the `.sig` file's text.
pub fn sign_update(key: &UpdaterKey, file: &Path, version: &str) -> Result<String> {
    status(
        Command::new(crate::cargo())
            .args(["tauri", "signer", "sign", "--app-version", version])
            .arg(file)
            .env("TAURI_SIGNING_PRIVATE_KEY_PATH", &key.path)
            .env("TAURI_SIGNING_PRIVATE_KEY_PASSWORD", &key.password)
            .env_remove("TAURI_SIGNING_PRIVATE_KEY"),
    )?;
    let sig = PathBuf::from(format!("{}.sig", file.display()));
    std::fs::read_to_string(&sig).map_err(|e| format!("{}: {e}", sig.display()))
}

/// `dist/updates/`: the packages the updater installs, their signatures and `latest.json`,
/// which announces them at `base_url` (where IT's update server serves this folder).
pub fn write_updates(dist: &Path, key: &UpdaterKey, version: &str, base_url: &str) -> Result {
    let updates = dist.join("updates");
    mkdir(&updates)?;
    let mut platforms = serde_json::Map::new();
    for (ext, bundle_type) in [(".deb", "deb"), (".rpm", "rpm")] {
        let pkg = only_file(dist, ext)?;
        let name = file_name(&pkg)?;
        let copy_to = updates.join(&name);
        copy(&pkg, &copy_to)?;
        let signature = sign_update(key, &copy_to, version)?;
        platforms.insert(
            format!("linux-x86_64-{bundle_type}"),
            serde_json::json!({
                "signature": signature,
                "url": format!("{}/{name}", base_url.trim_end_matches('/')),
            }),
        );
    }
    let latest = serde_json::json!({
        "version": version,
        "notes": format!("Ringside {version}"),
        "platforms": platforms,
    });
    write(
        &updates.join("latest.json"),
        serde_json::to_string_pretty(&latest)
            .map_err(|e| e.to_string())?
            .as_bytes(),
    )?;
    write(&dist.join("keys/updater.pub"), key.public.as_bytes())
}
