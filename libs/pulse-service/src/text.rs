//! Client text, checked the same way in every service: trimmed, required or
//! optional, at most so many characters, and storable. Each function names
//! `field` as the service spells it; a refusal is a [`TextError`], which each
//! service turns into its own `Invalid` error, in the suite's wording
//! ([`TextError`]'s `Display`) or in its own.

/// Why a text was refused, with the field it was sent in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// A required value was missing or blank.
    #[error("{field} must not be empty")]
    Empty { field: String },
    /// Longer than `max` characters.
    #[error("{field} must be at most {max} characters")]
    TooLong { field: String, max: usize },
    /// Holds a NUL, which PostgreSQL `text` cannot store (see
    /// [`reject_nul`]).
    #[error("{field} cannot contain NUL characters")]
    Nul { field: String },
}

/// A required value: trimmed, non-empty, at most `max` characters, storable.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, TextError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty {
            field: field.to_owned(),
        });
    }
    check(field, trimmed, max)?;
    Ok(trimmed.to_owned())
}

/// An optional value: trimmed; blank means absent, so clients clear a field
/// by sending an empty string.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, TextError> {
    let Some(trimmed) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    check(field, trimmed, max)?;
    Ok(Some(trimmed.to_owned()))
}

/// At most `max` characters (not bytes: "é" is one), and storable. For text
/// kept as sent, untrimmed.
pub fn check(field: &str, value: &str, max: usize) -> Result<(), TextError> {
    if value.chars().count() > max {
        return Err(TextError::TooLong {
            field: field.to_owned(),
            max,
        });
    }
    reject_nul(field, value)
}

/// Refuses `value` if PostgreSQL `text` cannot hold it: it takes every
/// character but NUL (U+0000). A NUL that reaches a query fails the
/// statement, and the caller would only learn "internal error"; refused while
/// the request is validated, the caller is told which field is wrong and
/// nothing is written.
pub fn reject_nul(field: &str, value: &str) -> Result<(), TextError> {
    if value.contains('\0') {
        return Err(TextError::Nul {
            field: field.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<T: std::fmt::Debug>(result: Result<T, TextError>) -> String {
        result.expect_err("refused").to_string()
    }

    #[test]
    fn text_with_a_nul_anywhere_is_refused_naming_the_field() {
        for value in ["\0", "a\0", "\0b", "a\0b"] {
            assert_eq!(
                message(reject_nul("name", value)),
                "name cannot contain NUL characters",
                "{value:?}"
            );
        }
        assert_eq!(
            message(required("taskType", "video\0", 10)),
            "taskType cannot contain NUL characters"
        );
        assert_eq!(
            message(optional("notes", Some("\0"), 10)),
            "notes cannot contain NUL characters"
        );
    }

    #[test]
    fn any_other_text_is_storable() {
        for value in ["", "Milk", "é ✓ \u{1}\u{7f}", "\\0", "NUL"] {
            assert_eq!(reject_nul("name", value), Ok(()), "{value:?}");
        }
    }

    #[test]
    fn required_text_is_trimmed_and_must_be_there() {
        assert_eq!(required("name", " Acme ", 10).as_deref(), Ok("Acme"));
        assert_eq!(
            required("name", " \t", 10),
            Err(TextError::Empty {
                field: "name".into()
            })
        );
        assert_eq!(message(required("name", "", 10)), "name must not be empty");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(required("name", &"é".repeat(10), 10).is_ok());
        assert_eq!(
            required("name", &"é".repeat(11), 10),
            Err(TextError::TooLong {
                field: "name".into(),
                max: 10
            })
        );
        assert_eq!(
            message(check("name", &"a".repeat(11), 10)),
            "name must be at most 10 characters"
        );
    }

    #[test]
    fn blank_optional_text_is_absent() {
        assert_eq!(optional("message", Some("  "), 10), Ok(None));
        assert_eq!(optional("message", None, 10), Ok(None));
        assert_eq!(
            optional("message", Some(" hi "), 10),
            Ok(Some("hi".to_owned()))
        );
        assert_eq!(
            message(optional("message", Some("abc"), 2)),
            "message must be at most 2 characters"
        );
    }
}
