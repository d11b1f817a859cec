//! What the backend accepts (docs/backend-api.md), checked as the agent types and again in the
//! core before anything is queued, so that a write is never refused for its size after the
//! agent has moved on to the next call. The reference backend enforces the same numbers.

use crate::call::CallDraft;

/// Notes, in UTF-8 bytes (the contract's unit: 64 KiB).
pub const NOTES_MAX_BYTES: usize = 64 * 1024;
/// Tags on one draft.
pub const TAGS_MAX: usize = 20;
/// One tag, in characters.
pub const TAG_MAX_CHARS: usize = 64;
/// A number as typed or pasted, in characters: the backend's `phone` and transfer `number`
/// limit. Longer input is refused, never cut and dialled.
pub const NUMBER_MAX_CHARS: usize = 64;

/// Why a draft cannot be saved or sent as it is; the message is shown to the agent as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftLimitError {
    #[error("The notes are {bytes} bytes long; the limit is {max} bytes. Shorten them to send.", max = NOTES_MAX_BYTES)]
    NotesTooLong { bytes: usize },
    #[error("{count} tags; at most {max} are allowed.", max = TAGS_MAX)]
    TooManyTags { count: usize },
    #[error("The tag \"{tag}…\" is longer than {max} characters.", max = TAG_MAX_CHARS)]
    TagTooLong { tag: String },
}

impl DraftLimitError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotesTooLong { .. } => "notes_too_long",
            Self::TooManyTags { .. } => "too_many_tags",
            Self::TagTooLong { .. } => "tag_too_long",
        }
    }
}

/// Bytes of notes the agent may still type.
pub fn notes_remaining(notes: &str) -> i64 {
    NOTES_MAX_BYTES as i64 - notes.len() as i64
}

/// Checks a draft against the contract's limits.
pub fn check_draft(draft: &CallDraft) -> Result<(), DraftLimitError> {
    if draft.notes.len() > NOTES_MAX_BYTES {
        return Err(DraftLimitError::NotesTooLong {
            bytes: draft.notes.len(),
        });
    }
    if draft.tags.len() > TAGS_MAX {
        return Err(DraftLimitError::TooManyTags {
            count: draft.tags.len(),
        });
    }
    if let Some(tag) = draft
        .tags
        .iter()
        .find(|t| t.chars().count() > TAG_MAX_CHARS)
    {
        return Err(DraftLimitError::TagTooLong {
            tag: tag.chars().take(20).collect(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(notes: &str, tags: &[&str]) -> CallDraft {
        CallDraft {
            call_log_id: "c".into(),
            notes: notes.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..CallDraft::default()
        }
    }

    #[test]
    fn notes_are_measured_in_bytes_up_to_the_contracts_limit() {
        assert_eq!(
            check_draft(&draft(&"a".repeat(NOTES_MAX_BYTES), &[])),
            Ok(())
        );
        assert_eq!(
            check_draft(&draft(&"a".repeat(NOTES_MAX_BYTES + 1), &[])),
            Err(DraftLimitError::NotesTooLong {
                bytes: NOTES_MAX_BYTES + 1
            })
        );
        // "é" is two bytes: half as many fit.
        let accents = "é".repeat(NOTES_MAX_BYTES / 2 + 1);
        assert_eq!(
            check_draft(&draft(&accents, &[])).unwrap_err().code(),
            "notes_too_long"
        );
        assert_eq!(notes_remaining("éa"), NOTES_MAX_BYTES as i64 - 3);
        assert_eq!(notes_remaining(&"a".repeat(NOTES_MAX_BYTES + 5)), -5);
    }

    #[test]
    fn tags_are_limited_in_count_and_length() {
        let many: Vec<String> = (0..=TAGS_MAX).map(|i| format!("t{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            check_draft(&draft("", &many)),
            Err(DraftLimitError::TooManyTags {
                count: TAGS_MAX + 1
            })
        );
        assert_eq!(check_draft(&draft("", &many[..TAGS_MAX])), Ok(()));
        let long = "x".repeat(TAG_MAX_CHARS + 1);
        assert_eq!(
            check_draft(&draft("", &[&long])).unwrap_err().code(),
            "tag_too_long"
        );
    }
}
