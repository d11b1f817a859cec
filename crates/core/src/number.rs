//! Numbers as agents type and paste them ("+33 (0)6 12-34 56 78", "020 7946 0018 x12",
//! "1002", "*97"), turned into what the webphone dials, with libphonenumber's rules (the
//! `phonenumber` crate) instead of a hand-written cleaner: national trunk prefixes, `(0)`,
//! international prefixes and extensions are where such cleaners go wrong.
//!
//! - Short internal numbers (up to [`INTERNAL_MAX_DIGITS`] digits, no `+`) and feature codes
//!   (with `*` or `#`) go to the PBX as typed, separators removed.
//! - A number with `+`, or any number when a default region is set, is parsed and dialled in
//!   E.164 (`+33612345678`); an extension is dialled after a pause (`,`), as post-dial DTMF.
//! - Without a default region, a long number without `+` is left to the PBX's dial plan
//!   (an outside-line prefix, say), separators removed.
//! - Anything else gets a plain error the agent can act on. Nothing longer than
//!   [`crate::limits::NUMBER_MAX_CHARS`] is even looked at.
//!
//! Validity (whether the number is allocated) is not required: CRMs hold test and fictional
//! numbers, and the PBX is the judge of what it can reach.

use phonenumber::{country, Mode};

use crate::limits::NUMBER_MAX_CHARS;

/// Internal extensions and short codes: dialled as they are.
pub const INTERNAL_MAX_DIGITS: usize = 6;

/// Why input is not a number; the message is shown to the agent as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("Enter a number to call.")]
    Empty,
    #[error("That is {chars} characters long; a number has at most {max}.", max = NUMBER_MAX_CHARS)]
    TooLong { chars: usize },
    #[error("\"{0}\" is not a number: use digits and + * # (spaces, dashes, dots and brackets are fine).")]
    NotDigits(String),
    #[error("\"{input}\" cannot be a phone number: {why}.")]
    Unparseable { input: String, why: &'static str },
    #[error("\"{0}\" is not a known region (expected a two-letter code such as FR or GB).")]
    UnknownRegion(String),
}

impl NumberError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "number_empty",
            Self::TooLong { .. } => "number_too_long",
            Self::NotDigits(_) => "invalid_number",
            Self::Unparseable { .. } => "number_unparseable",
            Self::UnknownRegion(_) => "unknown_region",
        }
    }
}

/// A default region (ISO 3166 alpha-2, any case), checked once where settings are read.
pub fn parse_region(code: &str) -> Result<country::Id, NumberError> {
    code.trim()
        .to_ascii_uppercase()
        .parse::<country::Id>()
        .map_err(|_| NumberError::UnknownRegion(code.to_string()))
}

/// The string the webphone dials for `input`, or why there is none.
pub fn dial_string(input: &str, region: Option<country::Id>) -> Result<String, NumberError> {
    let input = input.trim();
    let chars = input.chars().count();
    if chars > NUMBER_MAX_CHARS {
        return Err(NumberError::TooLong { chars });
    }
    if input.is_empty() {
        return Err(NumberError::Empty);
    }
    // Post-dial digits after the library's pause character stay as typed.
    let (base, post) = match input.find(',') {
        Some(i) => input.split_at(i),
        None => (input, ""),
    };
    let post: String = post.chars().filter(|c| !c.is_whitespace()).collect();
    if !post
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ',' | '*' | '#'))
    {
        return Err(NumberError::NotDigits(input.to_string()));
    }
    let (main, ext) = split_extension(base);
    let mut cleaned = String::new();
    for (i, c) in main.trim().chars().enumerate() {
        match c {
            '0'..='9' | '*' | '#' => cleaned.push(c),
            '+' if i == 0 => cleaned.push(c),
            ' ' | '-' | '(' | ')' | '.' | '/' | '\u{a0}' => {}
            _ => return Err(NumberError::NotDigits(input.to_string())),
        }
    }
    let digits = cleaned.trim_start_matches('+');
    if digits.is_empty() {
        return Err(NumberError::NotDigits(input.to_string()));
    }
    if let Some(ext) = ext {
        if ext.is_empty() || !ext.chars().all(|c| c.is_ascii_digit()) {
            return Err(NumberError::NotDigits(input.to_string()));
        }
    }
    let international = cleaned.starts_with('+');
    let feature_code = cleaned.contains(['*', '#']);
    let internal = !international && digits.len() <= INTERNAL_MAX_DIGITS;
    let mut dialled = if feature_code || internal || (!international && region.is_none()) {
        cleaned
    } else {
        // `main` keeps the agent's `(0)` and separators: libphonenumber reads them.
        let number =
            phonenumber::parse(region, main.trim()).map_err(|e| NumberError::Unparseable {
                input: input.to_string(),
                why: match e {
                    phonenumber::ParseError::TooLong => "too many digits",
                    phonenumber::ParseError::TooShortNsn
                    | phonenumber::ParseError::TooShortAfterIdd => "too few digits",
                    phonenumber::ParseError::InvalidCountryCode => "no such country code",
                    _ => "not a number libphonenumber can read",
                },
            })?;
        number.format().mode(Mode::E164).to_string()
    };
    if let Some(ext) = ext {
        dialled.push(',');
        dialled.push_str(ext);
    }
    Ok(dialled + &post)
}

/// Splits `"020 7946 0018 x12"`, `"… ext. 12"`, `"…;ext=12"` into the number and its
/// extension's digits.
fn split_extension(s: &str) -> (&str, Option<&str>) {
    let lower = s.to_ascii_lowercase();
    for marker in [";ext=", "extension", "ext.", "ext", "x"] {
        if let Some(i) = lower.rfind(marker) {
            // Only after some digits: "x" alone is not a number with an extension.
            if s[..i].chars().any(|c| c.is_ascii_digit()) {
                return (&s[..i], Some(s[i + marker.len()..].trim()));
            }
        }
    }
    (s, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr() -> Option<country::Id> {
        Some(country::Id::FR)
    }

    #[test]
    fn the_trunk_prefix_in_brackets_is_dropped() {
        // The first shift's case: dialled as +330612345678 before.
        assert_eq!(
            dial_string("+33 (0)6 12-34 56 78", None).unwrap(),
            "+33612345678"
        );
        assert_eq!(
            dial_string("+33 6 12 34 56 78", None).unwrap(),
            "+33612345678"
        );
    }

    #[test]
    fn national_numbers_use_the_default_region() {
        assert_eq!(dial_string("06 12 34 56 78", fr()).unwrap(), "+33612345678");
        assert_eq!(
            dial_string("0033 6 12 34 56 78", fr()).unwrap(),
            "+33612345678"
        );
        assert_eq!(
            dial_string("020 7946 0018", Some(country::Id::GB)).unwrap(),
            "+442079460018"
        );
        // No region: the PBX's dial plan decides (an outside-line prefix, say).
        assert_eq!(dial_string("0 612 345 678", None).unwrap(), "0612345678");
    }

    #[test]
    fn internal_extensions_and_feature_codes_are_kept() {
        assert_eq!(dial_string("1002", fr()).unwrap(), "1002");
        assert_eq!(dial_string("(1999)", None).unwrap(), "1999");
        assert_eq!(dial_string("*97", fr()).unwrap(), "*97");
        assert_eq!(
            dial_string("*72 0612345678#", fr()).unwrap(),
            "*720612345678#"
        );
    }

    #[test]
    fn extensions_are_dialled_after_a_pause() {
        assert_eq!(
            dial_string("+44 20 7946 0018 x12", None).unwrap(),
            "+442079460018,12"
        );
        assert_eq!(
            dial_string("+44 20 7946 0018;ext=12", None).unwrap(),
            "+442079460018,12"
        );
        assert_eq!(
            dial_string("020 7946 0018 ext. 7", Some(country::Id::GB)).unwrap(),
            "+442079460018,7"
        );
        assert_eq!(dial_string("1002 x5", None).unwrap(), "1002,5");
        // Post-dial digits as the library writes them stay as typed.
        assert_eq!(
            dial_string("+15550100,,123#", None).unwrap(),
            "+15550100,,123#"
        );
    }

    #[test]
    fn fictional_numbers_from_the_crm_still_dial() {
        assert_eq!(dial_string("+1 555-0100", None).unwrap(), "+15550100");
    }

    #[test]
    fn what_cannot_be_a_number_says_why() {
        assert_eq!(dial_string("   ", None), Err(NumberError::Empty));
        assert_eq!(
            dial_string("call mom", None).unwrap_err().code(),
            "invalid_number"
        );
        assert_eq!(dial_string("+", None).unwrap_err().code(), "invalid_number");
        assert_eq!(
            dial_string("12+34", None).unwrap_err().code(),
            "invalid_number"
        );
        let pasted = "1".repeat(100_000);
        assert_eq!(
            dial_string(&pasted, None),
            Err(NumberError::TooLong { chars: 100_000 })
        );
        let e = dial_string("+44 2079 4600 1812 3456 7890", None).unwrap_err();
        assert!(e.to_string().contains("too many digits"), "{e}");
        let e = dial_string("+999 1234567", None).unwrap_err();
        assert!(e.to_string().contains("country code"), "{e}");
    }

    #[test]
    fn regions_are_checked() {
        assert_eq!(parse_region("fr"), Ok(country::Id::FR));
        assert!(matches!(
            parse_region("XX"),
            Err(NumberError::UnknownRegion(_))
        ));
    }
}
