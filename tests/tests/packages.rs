//! The signed packages `cargo xtask bundle` writes to `dist/` (issue 10), checked the way a
//! seat checks them: apt installs Ringside from the signed repository through a `signed-by`
//! source, into a throw-away root, and refuses a tampered index, a tampered package or the
//! wrong key; `rpm -K` accepts the signed rpm with the published key and refuses it tampered
//! or without the key. The installed release binary reads IT's policy only from its fixed
//! place.
//!
//! apt runs with its own lists, cache and trusted keys in a temporary directory and the
//! machine's dpkg status (the libraries Ringside depends on are installed there), and dpkg
//! unpacks into a directory of its own (`--root`): nothing on the machine changes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ringside_e2e::{dist_dir as dist, only_file as only, work_dir};

fn copy_dir(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap()
        .success();
    assert!(ok, "cp -a {} {}", from.display(), to.display());
}

/// Flips one byte of `file` at `at` (from the end when negative).
fn tamper(file: &Path, at: i64) {
    let mut bytes = std::fs::read(file).unwrap();
    let len = i64::try_from(bytes.len()).unwrap();
    let i = usize::try_from(if at < 0 { len + at } else { at }).unwrap();
    bytes[i] ^= 0x20;
    std::fs::write(file, bytes).unwrap();
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// apt with everything of its own under `dir`, reading `repo` through `signed-by=key`.
struct Apt {
    dir: PathBuf,
}

impl Apt {
    fn new(dir: &Path, repo: &Path, key: &Path) -> Apt {
        let _ = std::fs::remove_dir_all(dir);
        for d in [
            "etc/sources.list.d",
            "etc/trusted.gpg.d",
            "etc/preferences.d",
            "lists/partial",
            "cache/archives/partial",
            "root/var/lib/dpkg/updates",
            "root/var/lib/dpkg/info",
        ] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        std::fs::write(dir.join("root/var/lib/dpkg/status"), "").unwrap();
        std::fs::write(dir.join("root/var/lib/dpkg/available"), "").unwrap();
        // `copy:` as a mirror on a file server would be fetched: into apt's own cache, checked.
        std::fs::write(
            dir.join("etc/sources.list"),
            format!(
                "deb [signed-by={}] copy:{} stable main\n",
                key.display(),
                repo.display()
            ),
        )
        .unwrap();
        Apt {
            dir: dir.to_path_buf(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let d = |p: &str| self.dir.join(p).display().to_string();
        let opts = [
            format!("Dir::Etc::SourceList={}", d("etc/sources.list")),
            format!("Dir::Etc::SourceParts={}", d("etc/sources.list.d")),
            format!("Dir::Etc::Trusted={}", d("etc/trusted.gpg")),
            format!("Dir::Etc::TrustedParts={}", d("etc/trusted.gpg.d")),
            format!("Dir::Etc::PreferencesParts={}", d("etc/preferences.d")),
            format!("Dir::State::Lists={}", d("lists")),
            format!("Dir::Cache={}", d("cache")),
            "Dir::State::status=/var/lib/dpkg/status".to_string(),
            "Debug::NoLocking=1".to_string(),
            "APT::Sandbox::User=root".to_string(),
            format!("Dpkg::Options::=--root={}", d("root")),
            "Dpkg::Options::=--force-depends".to_string(),
            "Dpkg::Options::=--force-script-chrootless".to_string(),
            "Dpkg::Options::=--log=/dev/null".to_string(),
            "Dpkg::Use-Pty=0".to_string(),
            "DPkg::Pre-Invoke::=".to_string(),
            "DPkg::Post-Invoke::=".to_string(),
        ];
        let mut cmd = Command::new("apt-get");
        for o in &opts {
            cmd.args(["-o", o]);
        }
        cmd.args(["-q", "-y"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .unwrap()
    }
}

#[test]
fn apt_installs_ringside_from_the_signed_repository_and_refuses_tampering() {
    let dist = dist();
    let key = dist.join("keys/ringside-archive.gpg");
    let work = work_dir("packages-apt");

    // The signed repository as published: update, install, and the release binary runs.
    let apt = Apt::new(&work.join("good"), &dist.join("apt"), &key);
    let up = apt.run(&["update"]);
    assert!(up.status.success(), "{}", text(&up));
    assert!(!text(&up).contains("W:"), "warnings: {}", text(&up));
    let install = apt.run(&["install", "--no-install-recommends", "ringside"]);
    assert!(install.status.success(), "{}", text(&install));
    let root = work.join("good/root");
    let bin = root.join("usr/bin/ringside");
    assert!(bin.is_file(), "{}", text(&install));
    let version = Command::new(&bin).arg("--version").output().unwrap();
    let said = String::from_utf8_lossy(&version.stdout).to_string();
    assert!(
        said.starts_with(&format!("ringside {}", env!("CARGO_PKG_VERSION"))),
        "{said}"
    );
    assert!(said.contains("demo backend: not included"), "{said}");
    let desktop = std::fs::read_dir(root.join("usr/share/applications"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .find(|t| t.contains("Exec="))
        .expect("a desktop entry");
    assert!(desktop.contains("%u"), "{desktop}");
    assert!(desktop.contains("x-scheme-handler/tel"), "{desktop}");

    // A release reads IT's policy only from its fixed place: the variable the debug builds
    // honour changes nothing, so a user cannot point it at an empty file.
    let escape = work.join("empty-policy.toml");
    std::fs::write(&escape, "").unwrap();
    let policy = Command::new(&bin)
        .arg("policy")
        .env("RINGSIDE_SYSTEM_CONFIG", &escape)
        .output()
        .unwrap();
    assert!(
        text(&policy).contains("IT policy file: /etc/ringside/config.toml"),
        "{}",
        text(&policy)
    );

    // An index changed after signing: apt refuses the repository.
    let repo = work.join("tampered-index");
    let _ = std::fs::remove_dir_all(&repo);
    copy_dir(&dist.join("apt"), &repo);
    let packages = repo.join("dists/stable/main/binary-amd64/Packages");
    let changed = std::fs::read_to_string(&packages)
        .unwrap()
        .replace("Package: ringside", "Package: ringside\nDepends: evil");
    std::fs::write(&packages, changed).unwrap();
    let _ = std::fs::remove_file(repo.join("dists/stable/main/binary-amd64/Packages.gz"));
    let apt = Apt::new(&work.join("index"), &repo, &key);
    let up = apt.run(&["update"]);
    let said = text(&up);
    assert!(!up.status.success(), "{said}");
    assert!(said.contains("Hash Sum mismatch"), "{said}");
    let install = apt.run(&["install", "--no-install-recommends", "ringside"]);
    assert!(!install.status.success(), "{}", text(&install));

    // The release file's signed text changed: the signature no longer matches.
    let repo = work.join("tampered-release");
    let _ = std::fs::remove_dir_all(&repo);
    copy_dir(&dist.join("apt"), &repo);
    let inrelease = repo.join("dists/stable/InRelease");
    let changed = std::fs::read_to_string(&inrelease).unwrap().replacen(
        "Origin: Ringside",
        "Origin: Ringsidf",
        1,
    );
    std::fs::write(&inrelease, changed).unwrap();
    let apt = Apt::new(&work.join("release"), &repo, &key);
    let up = apt.run(&["update"]);
    assert!(!up.status.success(), "{}", text(&up));
    assert!(
        text(&up).contains("not signed") || text(&up).contains("BADSIG"),
        "{}",
        text(&up)
    );

    // A package changed in the pool: its hash is not the signed index's, apt will not install.
    let repo = work.join("tampered-package");
    let _ = std::fs::remove_dir_all(&repo);
    copy_dir(&dist.join("apt"), &repo);
    tamper(&only(&repo.join("pool/main"), ".deb"), -100);
    let apt = Apt::new(&work.join("package"), &repo, &key);
    let up = apt.run(&["update"]);
    assert!(up.status.success(), "{}", text(&up));
    let install = apt.run(&["install", "--no-install-recommends", "ringside"]);
    assert!(!install.status.success(), "{}", text(&install));
    assert!(text(&install).contains("mismatch"), "{}", text(&install));
    assert!(!work.join("package/root/usr/bin/ringside").exists());

    // Another key than the one the repository is signed with: refused.
    let other = work.join("other-key");
    let _ = std::fs::remove_dir_all(&other);
    std::fs::create_dir_all(&other).unwrap();
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .env("GNUPGHOME", &other)
            .args([
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(gpg(&[
        "--quick-generate-key",
        "Someone else <x@example.invalid>",
        "ed25519",
        "sign",
        "1d"
    ])
    .status
    .success());
    let wrong = other.join("wrong.gpg");
    assert!(gpg(&["--output", &wrong.display().to_string(), "--export"])
        .status
        .success());
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", &other)
        .status();
    let apt = Apt::new(&work.join("wrong-key"), &dist.join("apt"), &wrong);
    let up = apt.run(&["update"]);
    assert!(!up.status.success(), "{}", text(&up));
    assert!(text(&up).contains("NO_PUBKEY"), "{}", text(&up));
}

#[test]
fn rpm_checks_the_signature_with_the_published_key_and_refuses_tampering() {
    let dist = dist();
    let rpm = only(&dist, ".rpm");
    let work = work_dir("packages-rpm");
    let db = work.join("rpmdb");
    let _ = std::fs::remove_dir_all(&db);
    std::fs::create_dir_all(&db).unwrap();
    let rpm_cmd = |args: &[&str], file: &Path| {
        Command::new("rpm")
            .arg("--dbpath")
            .arg(&db)
            .args(args)
            .arg(file)
            .output()
            .unwrap()
    };

    // Before the key is known the signature cannot be checked: rpm says so.
    let unknown = rpm_cmd(&["-K"], &rpm);
    assert!(!unknown.status.success(), "{}", text(&unknown));

    let import = rpm_cmd(&["--import"], &dist.join("keys/ringside-release.asc"));
    assert!(import.status.success(), "{}", text(&import));
    let checked = rpm_cmd(&["-K"], &rpm);
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(
        text(&checked).contains("digests signatures OK"),
        "{}",
        text(&checked)
    );

    let bad = work.join("tampered.rpm");
    std::fs::copy(&rpm, &bad).unwrap();
    tamper(&bad, -100);
    let refused = rpm_cmd(&["-K"], &bad);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("NOT OK"), "{}", text(&refused));
}

#[test]
fn the_checksums_are_signed_and_match() {
    let dist = dist();
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    for listed in ["apt/dists/stable/InRelease", "keys/ringside-archive.gpg"] {
        assert!(sums.contains(listed), "{listed} not in SHA256SUMS");
    }
    assert!(sums.lines().any(|l| l.ends_with(".rpm")));
    assert!(sums.lines().any(|l| l.ends_with(".deb")));
    let check = Command::new("sha256sum")
        .args(["--check", "--quiet", "SHA256SUMS"])
        .current_dir(&dist)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));
    let home = work_dir("packages-sums-gnupg");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let verify = Command::new("gpgv")
        .arg("--keyring")
        .arg(dist.join("keys/ringside-archive.gpg"))
        .arg(dist.join("SHA256SUMS.asc"))
        .arg(dist.join("SHA256SUMS"))
        .env("GNUPGHOME", &home)
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", text(&verify));
}
