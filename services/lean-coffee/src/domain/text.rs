//! Validation of the free text users type. Every function names the field in
//! its message, in the camelCase the client sent, so the error can be shown
//! as-is. Trimming, lengths and NUL characters are checked by
//! `pulse_service::text`, alike in every service; what is here is the
//! lengths Lean Coffee allows.

use pulse_service::text;

use crate::LeanCoffeeError;

/// Longest session or topic title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest description.
pub const DESCRIPTION_MAX: usize = 2000;

/// A required title: trimmed, non-empty, at most [`TITLE_MAX`] characters.
pub fn title(field: &str, value: &str) -> Result<String, LeanCoffeeError> {
    required(field, value, TITLE_MAX)
}

/// A required value: trimmed, non-empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, LeanCoffeeError> {
    Ok(text::required(field, value, max)?)
}

/// An optional description: trimmed; empty means "no description", so
/// clients clear it by sending an empty string.
pub fn description(value: Option<String>) -> Result<Option<String>, LeanCoffeeError> {
    Ok(text::optional(
        "description",
        value.as_deref(),
        DESCRIPTION_MAX,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_testkit::invalid_message as message;

    #[test]
    fn title_is_trimmed_and_required() {
        assert_eq!(title("title", "  Retro ").ok().as_deref(), Some("Retro"));
        assert_eq!(message(title("title", " \t ")), "title must not be empty");
    }

    #[test]
    fn title_of_200_characters_is_accepted_and_201_refused() {
        assert!(title("title", &"é".repeat(200)).is_ok());
        assert_eq!(
            message(title("title", &"a".repeat(201))),
            "title must be at most 200 characters"
        );
    }

    #[test]
    fn text_with_a_nul_is_refused_naming_the_field() {
        assert_eq!(
            message(title("title", "Re\0tro")),
            "title cannot contain NUL characters"
        );
        assert_eq!(
            message(description(Some("\0".into()))),
            "description cannot contain NUL characters"
        );
    }

    #[test]
    fn blank_description_means_none_and_long_one_is_refused() {
        assert_eq!(description(Some("  ".into())).ok(), Some(None));
        assert_eq!(
            message(description(Some("a".repeat(2001)))),
            "description must be at most 2000 characters"
        );
    }
}
