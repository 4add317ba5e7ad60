//! Validation of the free text users and services send, by
//! `pulse_service::text` as in every service; this service words the
//! refusals as whole sentences naming the field ([`worded`]), so the gateway
//! can show them as-is.

use pulse_service::text::{self, TextError};

use crate::CoachingError;

/// Text refused by `pulse_service::text`, in this service's own sentences
/// ("Title cannot be empty"), which its clients show as they are.
fn worded(error: TextError) -> CoachingError {
    CoachingError::Invalid(match error {
        TextError::Empty { field } => format!("{field} cannot be empty"),
        TextError::TooLong { field, max } => format!("{field} cannot exceed {max} characters"),
        nul @ TextError::Nul { .. } => nul.to_string(),
    })
}

/// A required text: trimmed, non-empty, at most `max` characters.
pub fn required(label: &str, value: &str, max: usize) -> Result<String, CoachingError> {
    text::required(label, value, max).map_err(worded)
}

/// An optional text: trimmed; blank means absent.
pub fn optional(
    label: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, CoachingError> {
    text::optional(label, value.as_deref(), max).map_err(worded)
}

/// At most `max` characters (not bytes), and no NUL, for text kept as sent.
pub fn check(label: &str, value: &str, max: usize) -> Result<(), CoachingError> {
    text::check(label, value, max).map_err(worded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_testkit::invalid_message as message;

    #[test]
    fn required_text_is_trimmed_and_must_not_be_blank() {
        assert_eq!(required("Title", " Hi ", 10).ok().as_deref(), Some("Hi"));
        assert_eq!(
            message(required("Title", " \t", 10)),
            "Title cannot be empty"
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(check("Notes", &"é".repeat(10), 10).is_ok());
        assert_eq!(
            message(check("Notes", &"a".repeat(11), 10)),
            "Notes cannot exceed 10 characters"
        );
    }

    #[test]
    fn blank_optional_text_is_absent_and_nul_is_refused() {
        assert_eq!(optional("Body", Some("  ".into()), 10).ok(), Some(None));
        assert_eq!(optional("Body", None, 10).ok(), Some(None));
        assert_eq!(
            message(optional("Body", Some("a\0b".into()), 10)),
            "Body cannot contain NUL characters"
        );
    }
}
