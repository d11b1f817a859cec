//! Click-to-dial: the number in a `tel:`, `sip:`/`sips:` or `callto:` link, or in what an agent
//! passes to `ringside dial`, before it goes through the dial pad's own cleaning
//! ([`crate::number::dial_string`]).
//!
//! - `tel:` (RFC 3966): parameters after `;` are dropped but two: `ext=` becomes the
//!   extension, dialled after a pause; a `phone-context` that is a global number
//!   (`tel:7042;phone-context=+1-555`) is put in front of the local number, as phones do; a
//!   domain context (`phone-context=example.com`) means the PBX's own numbering: the local
//!   number is dialled as it is.
//! - `sip:`/`sips:` (RFC 3261): the user part, before `@`; a password in it is dropped
//!   unread, and the user part's own parameters (`;user=phone`) too. A URI without a user part
//!   names a host, not a number.
//! - `callto:` and `callto://` (Skype's and browsers' old form): what follows.
//! - A scheme-less string is a number as typed (`ringside dial 0612345678`).
//!
//! Percent-encoding is decoded first (`%2B33` is `+33`). Anything that is not a number in the
//! end is refused by the dial pad's cleaning, with its message.

use crate::limits::NUMBER_MAX_CHARS;

/// Why a link carries no number Ringside can call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("\"{0}\" is not a tel:, sip: or callto: link.")]
    Scheme(String),
    #[error("That link names no number.")]
    NoNumber,
    #[error("That link is {0} characters long; Ringside reads links of at most 512.")]
    TooLong(usize),
    #[error("That link is not valid percent-encoding.")]
    Encoding,
}

impl LinkError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Scheme(_) => "link_scheme",
            Self::NoNumber => "link_no_number",
            Self::TooLong(_) => "link_too_long",
            Self::Encoding => "link_encoding",
        }
    }
}

/// Longest link read at all: a number, its context and a few parameters.
pub const LINK_MAX_CHARS: usize = 512;

/// The number a link asks to call, as typed text for [`crate::number::dial_string`].
pub fn number_in(link: &str) -> Result<String, LinkError> {
    let link = link.trim();
    let chars = link.chars().count();
    if chars > LINK_MAX_CHARS {
        return Err(LinkError::TooLong(chars));
    }
    let Some((scheme, rest)) = split_scheme(link) else {
        // No scheme: a number as typed on the command line.
        return non_empty(link.to_string());
    };
    let rest = rest.trim_start_matches("//");
    let number = match scheme.as_str() {
        "tel" => tel(&decode(rest)?),
        "sip" | "sips" => sip(rest)?,
        "callto" => decode(rest.split(['?', '#']).next().unwrap_or(""))?,
        _ => return Err(LinkError::Scheme(scheme_for_message(link))),
    };
    non_empty(number)
}

fn non_empty(number: String) -> Result<String, LinkError> {
    let number = number.trim().to_string();
    if number.is_empty() || number.chars().count() > NUMBER_MAX_CHARS {
        // Too long for a number: the dial pad's message would quote the whole link.
        return Err(LinkError::NoNumber);
    }
    Ok(number)
}

/// `("tel", rest)` for `TEL:rest`; `None` when the text has no URI scheme (a number such as
/// `+33 6 12` or `1002` has none: a scheme starts with a letter).
fn split_scheme(s: &str) -> Option<(String, &str)> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), &s[colon + 1..]))
}

/// Just the scheme, for the message: the rest may hold anything.
fn scheme_for_message(link: &str) -> String {
    link.split(':')
        .next()
        .unwrap_or("")
        .chars()
        .take(20)
        .collect()
}

fn tel(rest: &str) -> String {
    let mut parts = rest.split(';');
    let local = parts.next().unwrap_or("").to_string();
    let mut ext = None;
    let mut context = None;
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "ext" => ext = Some(value.trim().to_string()),
            "phone-context" => context = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let mut number = match context {
        Some(c) if c.starts_with('+') && !local.trim_start().starts_with('+') => c + &local,
        _ => local,
    };
    if let Some(ext) = ext.filter(|e| !e.is_empty()) {
        number.push_str(" x");
        number.push_str(&ext);
    }
    number
}

fn sip(rest: &str) -> Result<String, LinkError> {
    // Headers (`?subject=…`) never belong to the number.
    let uri = rest.split('?').next().unwrap_or("");
    let Some((userinfo, _host)) = uri.rsplit_once('@') else {
        return Err(LinkError::NoNumber);
    };
    // `user:password`: the password is dropped without being decoded or kept.
    let user = userinfo.split(':').next().unwrap_or("");
    let user = decode(user)?;
    // User parameters (`;user=phone`) follow the number; a telephone-subscriber's own
    // parameters (`;phone-context=`) read as in a tel: link.
    Ok(tel(&user))
}

fn decode(s: &str) -> Result<String, LinkError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(LinkError::Encoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| LinkError::Encoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| LinkError::Encoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| LinkError::Encoding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::dial_string;
    use phonenumber::country;

    fn dialled(link: &str) -> String {
        let n = number_in(link).unwrap();
        dial_string(&n, Some(country::Id::FR)).unwrap()
    }

    #[test]
    fn tel_links_with_visual_separators() {
        assert_eq!(dialled("tel:+1-555-0100"), "+15550100");
        assert_eq!(dialled("tel:+33.6.12.34.56.78"), "+33612345678");
        assert_eq!(dialled("TEL:+44(20)7946-0018"), "+442079460018");
        assert_eq!(dialled("tel:06%2012%2034%2056%2078"), "+33612345678");
        assert_eq!(dialled("tel:%2B33612345678"), "+33612345678");
    }

    #[test]
    fn tel_parameters() {
        assert_eq!(dialled("tel:+44-20-7946-0018;ext=12"), "+442079460018,12");
        assert_eq!(dialled("tel:1002;phone-context=pbx.example.com"), "1002");
        assert_eq!(dialled("tel:0100;phone-context=+1-555"), "+15550100");
        // A global number keeps its own prefix whatever the context says.
        assert_eq!(dialled("tel:+33612345678;phone-context=+1"), "+33612345678");
        assert_eq!(dialled("tel:+15550100;isub=1234;foo=bar"), "+15550100");
    }

    #[test]
    fn sip_links_give_their_user_part() {
        assert_eq!(dialled("sip:1002@pbx"), "1002");
        assert_eq!(
            dialled("sips:+33612345678@pbx.example.com;transport=tls"),
            "+33612345678"
        );
        assert_eq!(
            dialled("sip:+1-555-0100;user=phone@gw.example.com?subject=x"),
            "+15550100"
        );
        assert_eq!(dialled("sip:1002:hunter2@pbx"), "1002");
        assert_eq!(number_in("sip:pbx.example.com"), Err(LinkError::NoNumber));
        // A name is not a number: the dial pad's cleaning says so.
        let name = number_in("sip:alice@pbx").unwrap();
        assert!(dial_string(&name, None).is_err());
    }

    #[test]
    fn callto_links_and_plain_numbers() {
        assert_eq!(dialled("callto://+33612345678"), "+33612345678");
        assert_eq!(dialled("callto:0612345678"), "+33612345678");
        assert_eq!(dialled("0612345678"), "+33612345678");
        assert_eq!(dialled("+33 6 12 34 56 78"), "+33612345678");
        assert_eq!(dialled("*97"), "*97");
    }

    #[test]
    fn what_is_not_a_number_link_is_refused_plainly() {
        assert_eq!(
            number_in("https://evil.example/tel:1"),
            Err(LinkError::Scheme("https".into()))
        );
        assert_eq!(number_in("tel:"), Err(LinkError::NoNumber));
        assert_eq!(number_in("tel:%zz"), Err(LinkError::Encoding));
        assert_eq!(number_in("tel:%C3"), Err(LinkError::Encoding));
        assert_eq!(number_in("tel:%2"), Err(LinkError::Encoding));
        let long = format!("tel:{}", "1".repeat(600));
        assert_eq!(number_in(&long), Err(LinkError::TooLong(604)));
        let long_number = format!("tel:{}", "1".repeat(200));
        assert_eq!(number_in(&long_number), Err(LinkError::NoNumber));
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_an_answer_not_a_panic(s in "\\PC{0,80}") {
            let _ = number_in(&s);
            let _ = number_in(&format!("tel:{s}"));
            let _ = number_in(&format!("sip:{s}"));
        }
    }
}
