//! The engine test harness shared by the seed-case, real-library and PBX-transfer tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use ringside_core::engine::{EngineError, WriteOp};
use ringside_core::{
    Agent, CallLog, Clock, Effect, Engine, Input, Intent, PhoneCommand, RawPhoneEvent, Secret,
    SipAccount,
};
use serde_json::{json, Value};

pub const ID: &str = "6a19e0c2-0000-4000-8000-000000000001";

pub struct Harness {
    pub engine: Engine,
    pub now: u64,
}

pub fn agent() -> Agent {
    Agent {
        id: "agt-1002".into(),
        name: "Dana Demo".into(),
        extension_id: "12".into(),
        extension: "1002".into(),
    }
}

pub fn sip() -> SipAccount {
    SipAccount {
        server: "pbx.example".into(),
        websocket_url: "wss://pbx.example:8089/ws".into(),
        username: "1002".into(),
        password: Secret("sip-secret-123".into()),
        domain: "pbx.example".into(),
    }
}

impl Harness {
    /// Signed in, library loaded and started.
    pub fn new() -> Self {
        let mut h = Self::bare();
        h.input(Input::SessionStarted {
            agent: agent(),
            sip: Some(sip()),
        });
        h.phone("app", json!(["loaded"]));
        h
    }

    pub fn bare() -> Self {
        Self {
            engine: Engine::new(),
            now: 1_000,
        }
    }

    pub fn clock(&self) -> Clock {
        Clock {
            mono_ms: self.now,
            wall_ms: 1_700_000_000_000 + self.now as i64,
        }
    }

    pub fn at(&mut self, ms: u64) -> &mut Self {
        self.now = ms;
        self
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        let clock = self.clock();
        self.engine.handle(input, clock).expect("input accepted")
    }

    pub fn try_input(&mut self, input: Input) -> Result<Vec<Effect>, EngineError> {
        let clock = self.clock();
        self.engine.handle(input, clock)
    }

    pub fn phone(&mut self, kind: &str, args: Value) -> Vec<Effect> {
        let args = args.as_array().cloned().unwrap_or_default();
        self.input(Input::Phone(RawPhoneEvent::new(kind, args)))
    }

    pub fn call(&mut self, event: &str, dir: i64, peer: &str, id: &str) -> Vec<Effect> {
        self.phone(
            "call",
            json!([event, dir, peer, peer, 1, format!("[{id}]")]),
        )
    }

    pub fn cdr(
        &mut self,
        dir: i64,
        peer: &str,
        duration_ms: &str,
        reason: &str,
        id: &str,
    ) -> Vec<Effect> {
        let (caller, called) = if dir == 1 {
            ("1002", peer)
        } else {
            (peer, "1002")
        };
        self.phone(
            "cdr",
            json!([
                caller,
                called,
                "1500",
                duration_ms,
                dir,
                peer,
                reason,
                1,
                id
            ]),
        )
    }

    pub fn intent(&mut self, intent: Intent) -> Vec<Effect> {
        self.input(Input::User(intent))
    }

    /// An inbound call `id` from `caller`, answered, then an attended transfer's consultation
    /// `consult` to 1003 by the webphone, ringing.
    pub fn consulting(&mut self, id: &str, caller: &str, consult: &str) {
        self.call("setup", 2, caller, id);
        self.call("connected", 2, caller, id);
        self.intent(Intent::ConsultStart {
            call_id: id.into(),
            number: "1003".into(),
        });
        self.call("setup", 1, "1003", consult);
    }

    pub fn log(&self, call_id: &str) -> CallLog {
        self.engine
            .call_logs()
            .find(|l| l.call_id == call_id)
            .cloned()
            .expect("call log")
    }
}

pub fn saves(fx: &[Effect]) -> Vec<(CallLog, WriteOp)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::SaveCallLog { log, op } => Some((log.clone(), *op)),
            _ => None,
        })
        .collect()
}

pub fn phone_cmds(fx: &[Effect]) -> Vec<PhoneCommand> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Phone(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}
