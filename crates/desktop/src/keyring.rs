//! The session kept between runs in the OS keyring: the Secret Service on Linux (GNOME
//! Keyring, KWallet), the Credential Manager on Windows, the Keychain on macOS. One entry per
//! backend and agent, under the service name "Ringside". Only the refresh token goes there;
//! without a keyring nothing is kept anywhere and the agent is told why.

use ringside_core::Secret;
use ringside_service::Vault;

/// The keyring's service name: what the agent sees in Seahorse or the Credential Manager.
pub const SERVICE: &str = "Ringside";

#[derive(Debug, Default)]
pub struct OsKeyring;

fn entry(account: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(SERVICE, account).map_err(describe)
}

/// In the agent's words: what is missing, not the library's enum.
fn describe(e: keyring::Error) -> String {
    match e {
        keyring::Error::NoStorageAccess(inner) => {
            format!("the system keyring is locked or refused access ({inner})")
        }
        keyring::Error::PlatformFailure(inner) => {
            format!("this system has no keyring Ringside can use ({inner})")
        }
        other => other.to_string(),
    }
}

impl Vault for OsKeyring {
    fn load(&self, account: &str) -> Result<Option<Secret>, String> {
        match entry(account)?.get_password() {
            Ok(token) => Ok(Some(Secret(token))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(describe(e)),
        }
    }

    fn save(&self, account: &str, secret: &Secret) -> Result<(), String> {
        entry(account)?.set_password(&secret.0).map_err(describe)
    }

    fn forget(&self, account: &str) -> Result<(), String> {
        match entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(describe(e)),
        }
    }
}
