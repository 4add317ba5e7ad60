//! Client text the database can store.

/// Refuses `value` if PostgreSQL `text` cannot hold it: it takes every
/// character but NUL (U+0000). A NUL that reaches a query fails the
/// statement, and the caller would only learn "internal error"; refused while
/// the request is validated, the caller is told which field is wrong and
/// nothing is written. The message names `field` as the service spells it;
/// each service wraps it in its own `Invalid` error.
pub fn reject_nul(field: &str, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!("{field} cannot contain NUL characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_a_nul_anywhere_is_refused_naming_the_field() {
        for value in ["\0", "a\0", "\0b", "a\0b"] {
            assert_eq!(
                reject_nul("name", value),
                Err("name cannot contain NUL characters".to_owned()),
                "{value:?}"
            );
        }
    }

    #[test]
    fn any_other_text_is_storable() {
        for value in ["", "Milk", "é ✓ \u{1}\u{7f}", "\\0", "NUL"] {
            assert_eq!(reject_nul("name", value), Ok(()), "{value:?}");
        }
    }
}
