//! Validation of free text. Every function names the field in its message,
//! in the camelCase the client sent, so the refusal can be shown as-is.
//! Trimming, lengths and NUL characters are checked by
//! `pulse_service::text`, alike in every service; what is here is the
//! lengths and the checks only tasks have.

use pulse_service::text;

use crate::TasksError;

/// Longest name-like value: key names, task types, providers, components,
/// settings, status texts, routes.
pub const NAME_MAX: usize = 200;
/// Longest free text: messages, results, errors, URLs, setting values.
pub const TEXT_MAX: usize = 4000;

/// A required value: trimmed, non-empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, TasksError> {
    Ok(text::required(field, value, max)?)
}

/// An optional value: trimmed; blank means absent.
pub fn optional(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, TasksError> {
    Ok(text::optional(field, value, max)?)
}

/// A whole percentage, 0 to 100.
pub fn percentage(field: &str, value: i32) -> Result<i32, TasksError> {
    if (0..=100).contains(&value) {
        Ok(value)
    } else {
        Err(TasksError::Invalid(format!(
            "{field} must be between 0 and 100"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_testkit::invalid_message as message;

    #[test]
    fn required_text_is_trimmed_and_must_be_there() {
        assert_eq!(required("name", " Acme ", 10).ok().as_deref(), Some("Acme"));
        assert_eq!(
            message(required("name", " \t", 10)),
            "name must not be empty"
        );
        assert_eq!(
            message(required("name", &"é".repeat(11), 10)),
            "name must be at most 10 characters"
        );
    }

    #[test]
    fn blank_optional_text_is_absent() {
        assert_eq!(optional("message", Some("  "), 10).ok(), Some(None));
        assert_eq!(optional("message", None, 10).ok(), Some(None));
        assert_eq!(
            message(optional("message", Some("abc"), 2)),
            "message must be at most 2 characters"
        );
    }

    #[test]
    fn text_with_a_nul_is_refused_naming_the_field() {
        assert_eq!(
            message(required("taskType", "video\0", 10)),
            "taskType cannot contain NUL characters"
        );
        assert_eq!(
            message(optional("message", Some("\0"), 10)),
            "message cannot contain NUL characters"
        );
    }

    #[test]
    fn percentages_run_from_0_to_100() {
        assert_eq!(percentage("percentage", 0).ok(), Some(0));
        assert_eq!(percentage("percentage", 100).ok(), Some(100));
        assert_eq!(
            message(percentage("percentage", 101)),
            "percentage must be between 0 and 100"
        );
        assert_eq!(
            message(percentage("percentage", -1)),
            "percentage must be between 0 and 100"
        );
    }
}
