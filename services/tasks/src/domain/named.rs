//! Closed sets of names — kinds, statuses, severities — as clients write
//! them and as the database stores them. One trait instead of one parser
//! per enum, so every refusal reads the same: "kind must be one of Task,
//! Video, Image".

use crate::TasksError;

pub trait Named: Copy + 'static {
    /// Every value, in the order refusals list them.
    const ALL: &'static [Self];

    /// The name on the wire and in the database.
    fn as_str(self) -> &'static str;

    /// A value as a client wrote it in `field`; case and surrounding blanks
    /// do not matter.
    fn parse(field: &str, value: &str) -> Result<Self, TasksError> {
        let value = value.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|named| named.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|named| named.as_str()).collect();
                TasksError::Invalid(format!("{field} must be one of {}", names.join(", ")))
            })
    }

    /// A value as the database stores it (its CHECK allows nothing else).
    fn from_stored(value: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|named| named.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TaskKind;

    #[test]
    fn names_parse_case_insensitively_and_refusals_list_them_all() {
        assert_eq!(
            TaskKind::parse("kind", " video ").ok(),
            Some(TaskKind::Video)
        );
        assert!(matches!(
            TaskKind::parse("kind", "Audio"),
            Err(TasksError::Invalid(message)) if message == "kind must be one of Task, Video, Image"
        ));
    }

    #[test]
    fn stored_names_must_match_exactly() {
        assert_eq!(TaskKind::from_stored("Image"), Some(TaskKind::Image));
        assert_eq!(TaskKind::from_stored("image"), None);
    }
}
