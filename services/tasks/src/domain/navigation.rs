//! Where a key's user is in the UI (`UpdateNavigation`), shared with the
//! key's other navigation-state connections.

use super::text;
use crate::TasksError;

#[derive(Debug, Clone, PartialEq)]
pub struct Navigation {
    pub route: String,
    pub conversation_id: Option<String>,
    pub title: Option<String>,
}

impl Navigation {
    pub fn new(
        route: &str,
        conversation_id: Option<&str>,
        title: Option<&str>,
    ) -> Result<Self, TasksError> {
        Ok(Self {
            route: text::required("route", route, text::TEXT_MAX)?,
            conversation_id: text::optional("conversationId", conversation_id, text::NAME_MAX)?,
            title: text::optional("title", title, text::NAME_MAX)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_required_and_blank_optionals_are_absent() {
        let state = Navigation::new(" /chat/42 ", Some(" "), Some("Chat")).expect("valid");
        assert_eq!(state.route, "/chat/42");
        assert_eq!(
            (state.conversation_id, state.title.as_deref()),
            (None, Some("Chat"))
        );
        assert!(matches!(
            Navigation::new("", None, None),
            Err(TasksError::Invalid(message)) if message == "route must not be empty"
        ));
    }
}
