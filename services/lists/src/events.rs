//! The contract events of CONTRACT §3.1, built from domain values. Each sets
//! `event_type` to its message name and `timestamp` to when the change was
//! made, so a payload read alone is complete.

use chrono::{DateTime, Utc};
use pulse_proto::lists::v1::{self as proto, event::Kind};
use pulse_service::timestamp;
use uuid::Uuid;

use crate::domain::{
    ActiveUser, Collaborator, Item, ItemPositions, ListChanges, Permission, ShoppingList, UserRef,
};
use crate::wire::item_positions;

pub fn item_added(item: &Item, at: DateTime<Utc>) -> Kind {
    Kind::ItemAdded(proto::ItemAdded {
        event_type: "ItemAdded".into(),
        list_id: item.list_id.to_string(),
        item: Some(item.into()),
        timestamp: timestamp(at),
    })
}

pub fn item_updated(item: &Item, changed_fields: &[&str], at: DateTime<Utc>) -> Kind {
    Kind::ItemUpdated(proto::ItemUpdated {
        event_type: "ItemUpdated".into(),
        list_id: item.list_id.to_string(),
        item: Some(item.into()),
        changed_fields: changed_fields
            .iter()
            .map(|&field| field.to_owned())
            .collect(),
        timestamp: timestamp(at),
    })
}

pub fn item_deleted(list_id: Uuid, item_id: Uuid, by: &UserRef, at: DateTime<Utc>) -> Kind {
    Kind::ItemDeleted(proto::ItemDeleted {
        event_type: "ItemDeleted".into(),
        list_id: list_id.to_string(),
        item_id: item_id.to_string(),
        deleted_by: Some(by.into()),
        timestamp: timestamp(at),
    })
}

pub fn item_purchased_status_changed(item: &Item, at: DateTime<Utc>) -> Kind {
    Kind::ItemPurchasedStatusChanged(proto::ItemPurchasedStatusChanged {
        event_type: "ItemPurchasedStatusChanged".into(),
        list_id: item.list_id.to_string(),
        item_id: item.id.to_string(),
        is_purchased: item.is_purchased,
        purchased_by: item.purchased_by.as_ref().map(Into::into),
        purchased_at: item.purchased_at.map(timestamp),
        timestamp: timestamp(at),
    })
}

/// `changes` holds only what changed; a cleared description is sent as an
/// empty string (null means "unchanged").
pub fn list_updated(list_id: Uuid, changes: &ListChanges, by: &UserRef, at: DateTime<Utc>) -> Kind {
    Kind::ListUpdated(proto::ListUpdated {
        event_type: "ListUpdated".into(),
        list_id: list_id.to_string(),
        changes: Some(proto::ListChanges {
            name: changes.name.clone(),
            description: changes.description.clone().map(Option::unwrap_or_default),
        }),
        updated_by: Some(by.into()),
        timestamp: timestamp(at),
    })
}

pub fn list_archived(list: &ShoppingList, by: &UserRef, at: DateTime<Utc>) -> Kind {
    Kind::ListArchived(proto::ListArchived {
        event_type: "ListArchived".into(),
        list_id: list.id.to_string(),
        is_archived: list.is_archived,
        archived_by: Some(by.into()),
        timestamp: timestamp(at),
    })
}

pub fn items_reordered(
    list_id: Uuid,
    positions: &ItemPositions,
    by: &UserRef,
    at: DateTime<Utc>,
) -> Kind {
    Kind::ItemsReordered(proto::ItemsReordered {
        event_type: "ItemsReordered".into(),
        list_id: list_id.to_string(),
        item_positions: item_positions(positions.as_slice()),
        reordered_by: Some(by.into()),
        timestamp: timestamp(at),
    })
}

pub fn collaborator_added(
    list_id: Uuid,
    collaborator: &Collaborator,
    by: &UserRef,
    at: DateTime<Utc>,
) -> Kind {
    Kind::CollaboratorAdded(proto::CollaboratorAdded {
        event_type: "CollaboratorAdded".into(),
        list_id: list_id.to_string(),
        collaborator: Some(collaborator.into()),
        invited_by: Some(by.into()),
        timestamp: timestamp(at),
    })
}

pub fn collaborator_removed(
    list_id: Uuid,
    removed: &UserRef,
    by: &UserRef,
    at: DateTime<Utc>,
) -> Kind {
    Kind::CollaboratorRemoved(proto::CollaboratorRemoved {
        event_type: "CollaboratorRemoved".into(),
        list_id: list_id.to_string(),
        user_id: removed.id.to_string(),
        display_name: removed.display_name.clone(),
        removed_by: Some(by.into()),
        timestamp: timestamp(at),
    })
}

pub fn collaborator_permission_changed(
    list_id: Uuid,
    user: &UserRef,
    old: Permission,
    new: Permission,
    by: &UserRef,
    at: DateTime<Utc>,
) -> Kind {
    Kind::CollaboratorPermissionChanged(proto::CollaboratorPermissionChanged {
        event_type: "CollaboratorPermissionChanged".into(),
        list_id: list_id.to_string(),
        user_id: user.id.to_string(),
        display_name: user.display_name.clone(),
        old_permission: old.as_str().into(),
        new_permission: new.as_str().into(),
        changed_by: Some(by.into()),
        timestamp: timestamp(at),
    })
}

pub fn user_joined(list_id: Uuid, user: &ActiveUser, at: DateTime<Utc>) -> Kind {
    Kind::UserJoined(proto::UserJoined {
        event_type: "UserJoined".into(),
        list_id: list_id.to_string(),
        user: Some(proto::ActiveUserRef {
            id: user.id.to_string(),
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
        }),
        timestamp: timestamp(at),
    })
}

pub fn user_left(list_id: Uuid, user: &UserRef, at: DateTime<Utc>) -> Kind {
    Kind::UserLeft(proto::UserLeft {
        event_type: "UserLeft".into(),
        list_id: list_id.to_string(),
        user_id: user.id.to_string(),
        display_name: user.display_name.clone(),
        timestamp: timestamp(at),
    })
}

#[cfg(test)]
mod tests {
    use pulse_proto::EventName;

    use super::*;
    use crate::domain::ItemFields;

    /// The payload's `eventType` as clients read it (JSON, camelCase).
    fn event_type(kind: &Kind) -> Option<String> {
        let json = serde_json::to_value(kind).ok()?;
        json.get("eventType")?.as_str().map(str::to_owned)
    }

    #[test]
    fn every_event_type_is_its_signalr_target_name() {
        let now = Utc::now();
        let ann = UserRef {
            id: Uuid::new_v4(),
            display_name: "Ann".into(),
        };
        let list = ShoppingList {
            id: Uuid::new_v4(),
            name: "Groceries".into(),
            description: None,
            owner_id: ann.id,
            is_archived: true,
            created_at: now,
            updated_at: None,
        };
        let item = Item {
            id: Uuid::new_v4(),
            list_id: list.id,
            fields: ItemFields {
                name: "Milk".into(),
                quantity: 1.0,
                unit: None,
                category_id: None,
                notes: None,
                image_url: None,
            },
            is_purchased: false,
            purchased_at: None,
            purchased_by: None,
            position: 0,
            created_by: ann.clone(),
            created_at: now,
            updated_at: None,
            updated_by: None,
        };
        let collaborator = Collaborator {
            user: ann.clone(),
            permission: Permission::Editor,
            added_at: now,
        };
        let active = ActiveUser {
            id: ann.id,
            display_name: "Ann".into(),
            avatar_url: None,
            joined_at: now,
        };
        let positions = ItemPositions::new(vec![(item.id, 0)]).expect("valid positions");
        let all = [
            item_added(&item, now),
            item_updated(&item, &["name"], now),
            item_deleted(list.id, item.id, &ann, now),
            item_purchased_status_changed(&item, now),
            list_updated(list.id, &ListChanges::default(), &ann, now),
            list_archived(&list, &ann, now),
            items_reordered(list.id, &positions, &ann, now),
            collaborator_added(list.id, &collaborator, &ann, now),
            collaborator_removed(list.id, &ann, &ann, now),
            collaborator_permission_changed(
                list.id,
                &ann,
                Permission::Editor,
                Permission::Viewer,
                &ann,
                now,
            ),
            user_joined(list.id, &active, now),
            user_left(list.id, &ann, now),
        ];
        for kind in &all {
            assert_eq!(event_type(kind).as_deref(), kind.name());
        }
    }

    #[test]
    fn cleared_description_is_sent_as_an_empty_string() {
        let changes = ListChanges {
            name: None,
            description: Some(None),
        };
        let ann = UserRef {
            id: Uuid::nil(),
            display_name: "Ann".into(),
        };
        match list_updated(Uuid::nil(), &changes, &ann, Utc::now()) {
            Kind::ListUpdated(event) => {
                let changes = event.changes.expect("changes");
                assert_eq!(
                    (changes.name, changes.description),
                    (None, Some(String::new()))
                );
            }
            other => panic!("expected ListUpdated, got {other:?}"),
        }
    }
}
