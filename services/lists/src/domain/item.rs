//! Items: their editable fields, patches to them, and reordering.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::text::{
    optional_id, optional_text, optional_url, quantity, required_name, LONG_TEXT_MAX, UNIT_MAX,
};
use super::UserRef;
use crate::ListsError;

/// What a user types about an item; the rest of [`Item`] is bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFields {
    pub name: String,
    pub quantity: f64,
    pub unit: Option<String>,
    pub category_id: Option<String>,
    pub notes: Option<String>,
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub id: Uuid,
    pub list_id: Uuid,
    pub fields: ItemFields,
    pub is_purchased: bool,
    pub purchased_at: Option<DateTime<Utc>>,
    pub purchased_by: Option<UserRef>,
    pub position: i32,
    pub created_by: UserRef,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<UserRef>,
}

/// An `AddItem` or `UpdateItem` body as received, before validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawItemFields {
    pub name: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub category_id: Option<String>,
    pub notes: Option<String>,
    pub image_url: Option<String>,
}

impl ItemFields {
    /// A new item: the name is required, the quantity defaults to 1.
    pub fn new(raw: RawItemFields) -> Result<Self, ListsError> {
        Ok(Self {
            name: required_name("name", raw.name.as_deref().unwrap_or_default())?,
            quantity: quantity(raw.quantity.unwrap_or(1.0))?,
            unit: optional_text("unit", raw.unit, UNIT_MAX)?,
            category_id: optional_id("categoryId", raw.category_id)?,
            notes: optional_text("notes", raw.notes, LONG_TEXT_MAX)?,
            image_url: optional_url("imageUrl", raw.image_url)?,
        })
    }
}

/// A validated `UpdateItem`: `None` leaves a field alone; `Some(None)` clears
/// an optional field (the client sent an empty string).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemPatch {
    pub name: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<Option<String>>,
    pub category_id: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub image_url: Option<Option<String>>,
}

impl ItemPatch {
    pub fn new(raw: RawItemFields) -> Result<Self, ListsError> {
        let text = |field: &str, value: Option<String>, max| {
            value
                .map(|v| optional_text(field, Some(v), max))
                .transpose()
        };
        let id = |field: &str, value: Option<String>| {
            value.map(|v| optional_id(field, Some(v))).transpose()
        };
        let url = |field: &str, value: Option<String>| {
            value.map(|v| optional_url(field, Some(v))).transpose()
        };
        Ok(Self {
            name: raw
                .name
                .map(|name| required_name("name", &name))
                .transpose()?,
            quantity: raw.quantity.map(quantity).transpose()?,
            unit: text("unit", raw.unit, UNIT_MAX)?,
            category_id: id("categoryId", raw.category_id)?,
            notes: text("notes", raw.notes, LONG_TEXT_MAX)?,
            image_url: url("imageUrl", raw.image_url)?,
        })
    }

    /// `fields` with the patch applied, and the camelCase names of the fields
    /// whose value actually changed (what `ItemUpdated.changedFields` lists).
    pub fn apply(&self, fields: &ItemFields) -> (ItemFields, Vec<&'static str>) {
        let mut next = fields.clone();
        let mut changed = Vec::new();
        set(&mut next.name, &self.name, "name", &mut changed);
        set(&mut next.quantity, &self.quantity, "quantity", &mut changed);
        set(&mut next.unit, &self.unit, "unit", &mut changed);
        set(
            &mut next.category_id,
            &self.category_id,
            "categoryId",
            &mut changed,
        );
        set(&mut next.notes, &self.notes, "notes", &mut changed);
        set(
            &mut next.image_url,
            &self.image_url,
            "imageUrl",
            &mut changed,
        );
        (next, changed)
    }
}

fn set<T: Clone + PartialEq>(
    target: &mut T,
    value: &Option<T>,
    name: &'static str,
    changed: &mut Vec<&'static str>,
) {
    if let Some(value) = value {
        if target != value {
            *target = value.clone();
            changed.push(name);
        }
    }
}

/// A validated `ReorderItems`: one to [`ItemPositions::MAX`] items, each once,
/// positions ≥ 0. Whether the items belong to the list is checked by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPositions(Vec<(Uuid, i32)>);

impl ItemPositions {
    /// Items one reorder may move. Its `ItemsReordered` event carries every one (about 45
    /// bytes each): at this bound it stays well under the largest message NATS takes (1 MiB),
    /// which no event may exceed.
    pub const MAX: usize = 10_000;

    pub fn new(positions: Vec<(Uuid, i32)>) -> Result<Self, ListsError> {
        if positions.is_empty() {
            return Err(ListsError::Invalid(
                "itemPositions must not be empty".into(),
            ));
        }
        if positions.len() > Self::MAX {
            return Err(ListsError::Invalid(format!(
                "itemPositions holds at most {} items; reorder in several calls",
                Self::MAX
            )));
        }
        let mut seen = HashSet::new();
        for (id, position) in &positions {
            if *position < 0 {
                return Err(ListsError::Invalid(format!(
                    "position of item {id} must not be negative"
                )));
            }
            if !seen.insert(*id) {
                return Err(ListsError::Invalid(format!(
                    "item {id} is listed more than once"
                )));
            }
        }
        Ok(Self(positions))
    }

    pub fn as_slice(&self) -> &[(Uuid, i32)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milk() -> ItemFields {
        ItemFields {
            name: "Milk".into(),
            quantity: 1.0,
            unit: Some("l".into()),
            category_id: None,
            notes: None,
            image_url: None,
        }
    }

    fn raw(name: &str) -> RawItemFields {
        RawItemFields {
            name: Some(name.into()),
            ..RawItemFields::default()
        }
    }

    #[test]
    fn a_reorder_moves_at_most_the_bound_and_its_event_fits_on_the_bus() {
        let positions = |count: usize| {
            (0..count)
                .map(|position| (Uuid::new_v4(), i32::try_from(position).expect("small")))
                .collect::<Vec<_>>()
        };
        let largest = ItemPositions::new(positions(ItemPositions::MAX)).expect("at the bound");
        let event = crate::events::items_reordered(
            Uuid::new_v4(),
            &largest,
            &UserRef {
                id: Uuid::new_v4(),
                display_name: "x".repeat(100),
            },
            chrono::Utc::now(),
        );
        let bytes = prost::Message::encoded_len(&pulse_proto::events::v1::Event::from(event));
        assert!(
            bytes < 900 * 1024,
            "ItemsReordered of the largest reorder: {bytes} bytes"
        );
        let refused = ItemPositions::new(positions(ItemPositions::MAX + 1));
        assert!(
            matches!(&refused, Err(ListsError::Invalid(message)) if message.contains("at most 10000")),
            "{refused:?}"
        );
    }

    #[test]
    fn new_item_quantity_defaults_to_one() {
        assert_eq!(
            ItemFields::new(raw("Milk")).map(|f| f.quantity).ok(),
            Some(1.0)
        );
    }

    #[test]
    fn new_item_without_name_is_refused() {
        assert!(matches!(
            ItemFields::new(RawItemFields::default()),
            Err(ListsError::Invalid(message)) if message == "name must not be empty"
        ));
    }

    #[test]
    fn patch_lists_only_fields_whose_value_changed() {
        let patch = ItemPatch::new(RawItemFields {
            name: Some("Milk".into()),
            quantity: Some(2.0),
            notes: Some("lactose-free".into()),
            ..RawItemFields::default()
        })
        .expect("valid patch");
        let (next, changed) = patch.apply(&milk());
        assert_eq!(changed, ["quantity", "notes"]);
        assert_eq!(next.quantity, 2.0);
        assert_eq!(next.notes.as_deref(), Some("lactose-free"));
    }

    #[test]
    fn patch_with_an_empty_string_clears_the_field() {
        let patch = ItemPatch::new(RawItemFields {
            unit: Some(String::new()),
            ..RawItemFields::default()
        })
        .expect("valid patch");
        let (next, changed) = patch.apply(&milk());
        assert_eq!(changed, ["unit"]);
        assert_eq!(next.unit, None);
    }

    #[test]
    fn patch_that_changes_nothing_reports_nothing() {
        let patch = ItemPatch::new(RawItemFields {
            unit: Some("l".into()),
            ..RawItemFields::default()
        })
        .expect("valid patch");
        assert!(patch.apply(&milk()).1.is_empty());
    }

    #[test]
    fn patch_with_zero_quantity_is_refused() {
        let raw = RawItemFields {
            quantity: Some(0.0),
            ..RawItemFields::default()
        };
        assert!(matches!(ItemPatch::new(raw), Err(ListsError::Invalid(_))));
    }

    #[test]
    fn reorder_refuses_negative_positions_duplicates_and_nothing() {
        let id = Uuid::new_v4();
        assert!(ItemPositions::new(vec![(id, -1)]).is_err());
        assert!(ItemPositions::new(vec![(id, 0), (id, 1)]).is_err());
        assert!(ItemPositions::new(vec![]).is_err());
        assert!(ItemPositions::new(vec![(id, 0)]).is_ok());
    }
}
