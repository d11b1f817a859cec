//! # The desktop around Ringside's window
//!
//! What an agent's desktop does for a softphone, without Tauri in it (the shell wires it):
//! - [`instance`]: one Ringside per profile; a second launch hands its link or number over;
//! - [`ring`]: which incoming-call notifications should be up, and what their buttons mean
//!   (sans-IO);
//! - [`notify`]: those notifications on the desktop's notification server, over D-Bus.
//! - [`keyring`]: the session kept between runs in the OS keyring.
//!
//! With the `testing` feature, [`testing`] gives tests a private session bus and a
//! notification server that records what it shows and clicks its buttons.

pub mod instance;
pub mod keyring;
pub mod notify;
pub mod ring;
#[cfg(all(feature = "testing", target_os = "linux"))]
pub mod testing;
