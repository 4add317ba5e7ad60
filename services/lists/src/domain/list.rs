//! A shopping list and the changes its owner can make to it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::text::{optional_text, required_name, LONG_TEXT_MAX};
use crate::ListsError;

#[derive(Debug, Clone, PartialEq)]
pub struct ShoppingList {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub owner_id: Uuid,
    pub is_archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A validated `CreateList`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewList {
    pub name: String,
    pub description: Option<String>,
}

impl NewList {
    pub fn new(name: &str, description: Option<String>) -> Result<Self, ListsError> {
        Ok(Self {
            name: required_name("name", name)?,
            description: optional_text("description", description, LONG_TEXT_MAX)?,
        })
    }
}

/// A validated `UpdateList`: `None` leaves a field alone; a description of
/// `Some(None)` clears it (the client sent an empty string).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
}

impl ListChanges {
    pub fn new(name: Option<&str>, description: Option<String>) -> Result<Self, ListsError> {
        Ok(Self {
            name: name.map(|name| required_name("name", name)).transpose()?,
            description: description
                .map(|text| optional_text("description", Some(text), LONG_TEXT_MAX))
                .transpose()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none()
    }

    /// The part of these changes that differs from `list`: what `ListUpdated`
    /// reports. Empty when the update would change nothing.
    pub fn against(&self, list: &ShoppingList) -> ListChanges {
        ListChanges {
            name: self.name.clone().filter(|name| *name != list.name),
            description: self
                .description
                .clone()
                .filter(|description| *description != list.description),
        }
    }

    /// `list` with these changes applied.
    pub fn apply(&self, list: &ShoppingList) -> ShoppingList {
        let mut updated = list.clone();
        if let Some(name) = &self.name {
            updated.name = name.clone();
        }
        if let Some(description) = &self.description {
            updated.description = description.clone();
        }
        updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> ShoppingList {
        ShoppingList {
            id: Uuid::nil(),
            name: "Groceries".into(),
            description: Some("weekly".into()),
            owner_id: Uuid::nil(),
            is_archived: false,
            created_at: Utc::now(),
            updated_at: None,
        }
    }

    #[test]
    fn new_list_trims_and_drops_an_empty_description() {
        let new = NewList::new(" Party ", Some(" ".into())).ok();
        assert_eq!(
            new,
            Some(NewList {
                name: "Party".into(),
                description: None
            })
        );
    }

    #[test]
    fn changes_report_only_what_differs() {
        let changes = ListChanges::new(Some("Groceries"), Some("monthly".into())).ok();
        let changed = changes.map(|c| c.against(&list()));
        assert_eq!(
            changed,
            Some(ListChanges {
                name: None,
                description: Some(Some("monthly".into()))
            })
        );
    }

    #[test]
    fn clearing_the_description_is_a_change() {
        let changes = ListChanges::new(None, Some(String::new())).ok();
        let changed = changes.map(|c| c.against(&list()));
        assert_eq!(changed.map(|c| c.description), Some(Some(None)));
    }

    #[test]
    fn same_values_change_nothing() {
        let changes = ListChanges::new(Some("Groceries"), Some("weekly".into())).ok();
        assert_eq!(changes.map(|c| c.against(&list()).is_empty()), Some(true));
    }

    #[test]
    fn empty_new_name_is_refused() {
        assert!(matches!(
            ListChanges::new(Some(""), None),
            Err(ListsError::Invalid(_))
        ));
    }
}
