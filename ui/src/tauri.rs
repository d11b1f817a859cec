//! Typed access to `window.__TAURI__` (the shell sets `withGlobalTauri`).

use ringside_core::IpcError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn invoke_raw(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    /// Tauri's IPC channel: handed to a command as an argument, it carries that command's
    /// messages to `onmessage`, in the order they were sent.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"])]
    type Channel;

    #[wasm_bindgen(constructor, js_namespace = ["window", "__TAURI__", "core"])]
    fn new() -> Channel;

    #[wasm_bindgen(method, setter)]
    fn set_onmessage(this: &Channel, f: &Closure<dyn FnMut(JsValue)>);
}

fn to_ipc_error(e: JsValue) -> IpcError {
    serde_wasm_bindgen::from_value::<IpcError>(e.clone()).unwrap_or_else(|_| {
        IpcError::new(
            "ipc",
            e.as_string()
                .unwrap_or_else(|| "the core did not answer".into()),
        )
    })
}

/// Calls a command whose success carries nothing; its error arrives as `{code, message}`.
pub async fn call<A: Serialize>(cmd: &str, args: &A) -> Result<(), IpcError> {
    let args =
        serde_wasm_bindgen::to_value(args).map_err(|e| IpcError::new("ipc", e.to_string()))?;
    invoke_raw(cmd, args)
        .await
        .map(|_| ())
        .map_err(to_ipc_error)
}

/// Calls a command whose success carries a value.
pub async fn call_for<A: Serialize, T: DeserializeOwned>(
    cmd: &str,
    args: &A,
) -> Result<T, IpcError> {
    let args =
        serde_wasm_bindgen::to_value(args).map_err(|e| IpcError::new("ipc", e.to_string()))?;
    let value = invoke_raw(cmd, args).await.map_err(to_ipc_error)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| IpcError::new("ipc", e.to_string()))
}

/// Calls `cmd` with a new channel as its argument `arg`, for the page's lifetime: every
/// message the channel carries goes to `on_message`, deserialised. The first messages may
/// arrive before the command returns.
pub async fn subscribe<T: DeserializeOwned + 'static>(
    cmd: &str,
    arg: &str,
    mut on_message: impl FnMut(Result<T, IpcError>) + 'static,
) -> Result<(), IpcError> {
    let channel = Channel::new();
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |msg: JsValue| {
        on_message(
            serde_wasm_bindgen::from_value(msg).map_err(|e| IpcError::new("ipc", e.to_string())),
        );
    });
    channel.set_onmessage(&closure);
    // The channel calls it as long as the page lives; dropping it would make a late message
    // throw in JavaScript.
    closure.forget();
    // Built by hand: the channel is a JavaScript object that serde cannot carry, and Tauri
    // needs the object itself to hand its id to the core.
    let args = js_sys::Object::new();
    js_sys::Reflect::set(&args, &JsValue::from_str(arg), &channel).map_err(to_ipc_error)?;
    invoke_raw(cmd, args.into())
        .await
        .map(|_| ())
        .map_err(to_ipc_error)
}
