//! Validation of the free-text and numeric fields users type. Every function
//! names the field in its message, in the camelCase the client sent, so the
//! error can be shown as-is. Trimming, lengths and NUL characters are
//! checked by `pulse_service::text`, alike in every service; what is here is
//! the lengths and the checks only shopping lists have.

use pulse_service::text;

use crate::ListsError;

/// Longest list, item and display name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest description or notes.
pub const LONG_TEXT_MAX: usize = 2000;
/// Longest unit ("kg", "bottles").
pub const UNIT_MAX: usize = 50;
/// Longest URL (image, avatar).
pub const URL_MAX: usize = 2048;

/// A required name: trimmed, non-empty, at most [`NAME_MAX`] characters, no
/// NUL.
pub fn required_name(field: &str, value: &str) -> Result<String, ListsError> {
    Ok(text::required(field, value, NAME_MAX)?)
}

/// An optional text: trimmed; empty means "no value", so clients clear a field
/// by sending an empty string.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ListsError> {
    Ok(text::optional(field, value.as_deref(), max)?)
}

/// An optional id (`categoryId`): blank means no value; anything else must
/// be a UUID, stored in its canonical form.
pub fn optional_id(field: &str, value: Option<String>) -> Result<Option<String>, ListsError> {
    optional_text(field, value, NAME_MAX)?
        .map(|id| {
            pulse_service::parse_uuid(field, &id)
                .map(|id| id.to_string())
                .map_err(ListsError::Invalid)
        })
        .transpose()
}

/// An optional link (`imageUrl`): blank means no value; anything else must
/// be an absolute http(s) URL of at most [`URL_MAX`] characters.
pub fn optional_url(field: &str, value: Option<String>) -> Result<Option<String>, ListsError> {
    let url = optional_text(field, value, URL_MAX)?;
    if let Some(url) = &url {
        pulse_service::check_web_url(field, url).map_err(ListsError::Invalid)?;
    }
    Ok(url)
}

/// A quantity: finite and greater than zero (fractions allowed: 0.5 kg).
pub fn quantity(value: f64) -> Result<f64, ListsError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ListsError::Invalid(
            "quantity must be a positive number".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_testkit::invalid_message as message;

    #[test]
    fn name_is_trimmed() {
        assert_eq!(
            required_name("name", "  Milk ").ok().as_deref(),
            Some("Milk")
        );
    }

    #[test]
    fn blank_name_is_refused() {
        assert_eq!(
            message(required_name("name", " \t ")),
            "name must not be empty"
        );
    }

    #[test]
    fn name_of_200_characters_is_accepted_and_201_refused() {
        assert!(required_name("name", &"é".repeat(200)).is_ok());
        assert_eq!(
            message(required_name("name", &"a".repeat(201))),
            "name must be at most 200 characters"
        );
    }

    #[test]
    fn empty_optional_text_means_no_value() {
        assert_eq!(
            optional_text("unit", Some("  ".into()), UNIT_MAX).ok(),
            Some(None)
        );
        assert_eq!(optional_text("unit", None, UNIT_MAX).ok(), Some(None));
    }

    #[test]
    fn text_with_a_nul_is_refused_naming_the_field() {
        assert_eq!(
            message(required_name("name", "Mi\0lk")),
            "name cannot contain NUL characters"
        );
        assert_eq!(
            message(optional_text("notes", Some("\0".into()), LONG_TEXT_MAX)),
            "notes cannot contain NUL characters"
        );
    }

    #[test]
    fn an_id_must_be_a_uuid_and_is_stored_canonical() {
        let id = "6F1C0D3E-8A53-4C5E-9D8E-0E6D7E0F4A11";
        assert_eq!(
            optional_id("categoryId", Some(id.into())).ok(),
            Some(Some(id.to_lowercase()))
        );
        assert_eq!(optional_id("categoryId", Some(" ".into())).ok(), Some(None));
        assert_eq!(
            message(optional_id("categoryId", Some("zzz".into()))),
            "categoryId must be a UUID"
        );
    }

    #[test]
    fn a_link_must_be_an_http_url() {
        assert_eq!(
            optional_url("imageUrl", Some(" https://example.com/a.png ".into())).ok(),
            Some(Some("https://example.com/a.png".to_owned()))
        );
        assert_eq!(
            message(optional_url("imageUrl", Some("javascript:alert(1)".into()))),
            "imageUrl must be an absolute http or https URL"
        );
    }

    #[test]
    fn quantity_must_be_positive_and_finite() {
        assert_eq!(quantity(0.5).ok(), Some(0.5));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(message(quantity(bad)), "quantity must be a positive number");
        }
    }
}
