//! Typed access to `window.__TAURI__` (the shell sets `withGlobalTauri`).

use ringside_core::IpcError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn invoke_raw(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    async fn listen_raw(event: &str, handler: &Closure<dyn FnMut(JsValue)>) -> JsValue;
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

/// Calls a command; its error arrives as `{code, message}`.
pub async fn invoke<A: Serialize, T: DeserializeOwned>(cmd: &str, args: &A) -> Result<T, IpcError> {
    let args =
        serde_wasm_bindgen::to_value(args).map_err(|e| IpcError::new("ipc", e.to_string()))?;
    let out = invoke_raw(cmd, args).await.map_err(to_ipc_error)?;
    serde_wasm_bindgen::from_value(out).map_err(|e| IpcError::new("ipc", e.to_string()))
}

/// Calls a command whose success carries nothing.
pub async fn call<A: Serialize>(cmd: &str, args: &A) -> Result<(), IpcError> {
    let args =
        serde_wasm_bindgen::to_value(args).map_err(|e| IpcError::new("ipc", e.to_string()))?;
    invoke_raw(cmd, args)
        .await
        .map(|_| ())
        .map_err(to_ipc_error)
}

/// Subscribes to an event for the page's lifetime.
pub async fn listen<T: DeserializeOwned + 'static>(event: &str, mut f: impl FnMut(T) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        if let Ok(payload) = js_sys::Reflect::get(&e, &JsValue::from_str("payload")) {
            if let Ok(v) = serde_wasm_bindgen::from_value::<T>(payload) {
                f(v);
            }
        }
    });
    listen_raw(event, &closure).await;
    // The subscription lives as long as the page.
    closure.forget();
}
