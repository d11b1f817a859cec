//! What keeps secrets out of the journal: by value (the session's password and tokens, wherever
//! they appear) and by structure (what a secret looks like, whoever's it is): the values of
//! secret-named keys, in JSON objects and in `key=value` or `key: value` text; the password in
//! a URL's userinfo; the credentials after `Bearer`, `Basic` or `Digest`.
//!
//! A short secret (under [`SHORT`] bytes, such as a four-digit lab SIP password) is redacted
//! only where a whole string equals it, or by structure: replacing it wherever it appears
//! would blank ordinary words and numbers that happen to equal it.

use serde_json::Value;

const MASK: &str = "***";
/// Secrets shorter than this are matched by structure and whole strings only.
pub const SHORT: usize = 8;

/// Whether a key names a secret: compared without case or punctuation (`SIP-Password`,
/// `access_token`), and by what it ends with (`sippassword`, `refresh_token`).
fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    matches!(
        k.as_str(),
        "password" | "passwd" | "pwd" | "pass" | "secret" | "authorization" | "apikey" | "auth"
    ) || k.ends_with("password")
        || k.ends_with("secret")
        || k.ends_with("accesstoken")
        || k.ends_with("refreshtoken")
        || k.ends_with("apikey")
        || k == "token"
}

/// Redacts `value` in place: structure first, then the known secrets.
pub fn redact(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => {
            if secrets.iter().any(|secret| secret == s) {
                MASK.clone_into(s);
                return;
            }
            let mut text = redact_text(s);
            for secret in secrets.iter().filter(|x| x.len() >= SHORT) {
                if text.contains(secret.as_str()) {
                    text = text.replace(secret.as_str(), MASK);
                }
            }
            *s = text;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, secrets)),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) && !v.is_null() {
                    *v = Value::String(MASK.into());
                } else {
                    redact(v, secrets);
                }
            }
        }
        _ => {}
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Where a value in text ends.
fn ends_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '&' | ';' | ',' | ')' | ']' | '}' | '>')
}

/// A string with its structural secrets masked.
pub fn redact_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        // `scheme://user:password@host`: the password goes.
        if chars[i] == ':' && chars.get(i + 1) == Some(&'/') && chars.get(i + 2) == Some(&'/') {
            out.push_str("://");
            i += 3;
            let start = i;
            let mut end = i;
            while end < chars.len()
                && !ends_value(chars[end])
                && !matches!(chars[end], '/' | '?' | '#')
            {
                end += 1;
            }
            let authority: String = chars[start..end].iter().collect();
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(MASK);
                        out.push('@');
                        out.push_str(host);
                    }
                    None => out.push_str(&authority),
                },
                None => out.push_str(&authority),
            }
            i = end;
            continue;
        }
        // `key=value`, `key: value`, `"key":"value"`, with a secret-named key.
        if is_key_char(chars[i]) && (i == 0 || !is_key_char(chars[i - 1])) {
            let start = i;
            let mut end = i;
            while end < chars.len() && is_key_char(chars[end]) {
                end += 1;
            }
            let key: String = chars[start..end].iter().collect();
            out.push_str(&key);
            i = end;
            if !is_secret_key(&key) {
                continue;
            }
            // The separator, with the quotes and spaces around it.
            let mut j = i;
            while j < chars.len() && matches!(chars[j], '"' | '\'') {
                j += 1;
            }
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            if !matches!(chars.get(j), Some('=' | ':')) {
                continue;
            }
            j += 1;
            while j < chars.len() && matches!(chars[j], ' ' | '"' | '\'') {
                j += 1;
            }
            out.extend(&chars[i..j]);
            i = j;
            // `Authorization: Bearer <token>`: the scheme stays, the credentials go.
            let word_end = (i..chars.len())
                .find(|&k| ends_value(chars[k]))
                .unwrap_or(chars.len());
            let word: String = chars[i..word_end].iter().collect();
            if ["bearer", "basic", "digest"].contains(&word.to_ascii_lowercase().as_str()) {
                out.push_str(&word);
                i = word_end;
                while i < chars.len() && chars[i] == ' ' {
                    out.push(' ');
                    i += 1;
                }
            }
            let value_end = (i..chars.len())
                .find(|&k| ends_value(chars[k]))
                .unwrap_or(chars.len());
            if value_end > i {
                out.push_str(MASK);
            }
            i = value_end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    // Credentials after an authorisation scheme, whatever precedes it.
    redact_schemes(&out)
}

/// `Bearer <token>` anywhere (a header echoed without its name).
fn redact_schemes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("Bearer ") {
        let (before, after) = rest.split_at(pos + "Bearer ".len());
        out.push_str(before);
        let end = after.find(ends_value).unwrap_or(after.len());
        if end > 0 && &after[..end] != MASK {
            out.push_str(MASK);
        } else {
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> String {
        redact_text(s)
    }

    #[test]
    fn secret_named_values_go_in_text() {
        assert_eq!(
            text("setparameter password=hunter22 ok"),
            "setparameter password=*** ok"
        );
        assert_eq!(
            text("wss://sip.example/ws?user=1002&token=abc.def&x=1"),
            "wss://sip.example/ws?user=1002&token=***&x=1"
        );
        assert_eq!(
            text("sip password: 1234, realm x"),
            "sip password: ***, realm x"
        );
        assert_eq!(
            text(r#"{"sippassword":"pw","user":"1002"}"#),
            r#"{"sippassword":"***","user":"1002"}"#
        );
        assert_eq!(
            text("Authorization: Bearer eyJhbGciOi.x.y"),
            "Authorization: Bearer ***"
        );
        assert_eq!(
            text("sent Bearer eyJhbGciOi.x.y to it"),
            "sent Bearer *** to it"
        );
        assert_eq!(
            text("access_token=aa&refresh_token=bb"),
            "access_token=***&refresh_token=***"
        );
    }

    #[test]
    fn a_url_keeps_its_user_and_loses_its_password() {
        assert_eq!(
            text("connect wss://1002:s3cret@pbx.example:8089/ws now"),
            "connect wss://1002:***@pbx.example:8089/ws now"
        );
        assert_eq!(text("https://user@host/path"), "https://user@host/path");
        assert_eq!(text("sip:1003@localhost"), "sip:1003@localhost");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for s in [
            "Registered.",
            "STATUS,1,Speaking,1003,1002,1,1003,[abc],1003,1002",
            "the passenger called about a pass",
            "password reset requested by the customer",
            "token",
            "Call-ID: 5f1b-77",
        ] {
            assert_eq!(text(s), s);
        }
    }

    #[test]
    fn secret_keys_in_objects_go_whatever_they_hold() {
        let mut v = json!({"username": "1002", "password": "x", "nested": {"apiKey": 12, "list": ["Bearer abc"]}, "token": null});
        redact(&mut v, &[]);
        assert_eq!(
            v,
            json!({"username": "1002", "password": "***", "nested": {"apiKey": "***", "list": ["Bearer ***"]}, "token": null})
        );
    }

    /// A short password blanks only a whole string equal to it, never the same word or digits
    /// inside ordinary text; a long one goes wherever it appears.
    #[test]
    fn short_secrets_do_not_blank_ordinary_words() {
        let secrets = vec!["1234".to_string(), "correct-horse-battery".to_string()];
        let mut v = json!([
            "1234",
            "call from +33 1234 5678",
            "Ready",
            "x correct-horse-battery y"
        ]);
        redact(&mut v, &secrets);
        assert_eq!(
            v,
            json!(["***", "call from +33 1234 5678", "Ready", "x *** y"])
        );
    }
}
