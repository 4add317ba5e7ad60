//! Request ids into UUIDs. Each failure is `TasksError::Invalid` naming the
//! field as the client spelled it (camelCase), so the message can be shown
//! unchanged.

use uuid::Uuid;

use crate::TasksError;

/// A UUID field: `taskId is not a UUID`.
pub(super) fn id(field: &str, value: &str) -> Result<Uuid, TasksError> {
    Uuid::parse_str(value.trim()).map_err(|_| TasksError::Invalid(format!("{field} is not a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ids_name_the_field() {
        assert!(matches!(
            id("taskId", "nope"),
            Err(TasksError::Invalid(message)) if message == "taskId is not a UUID"
        ));
        let task = Uuid::new_v4();
        assert_eq!(id("taskId", &format!(" {task} ")).ok(), Some(task));
    }
}
