//! Request fields into domain values. Each failure is `ListsError::Invalid`
//! naming the field as the client spelled it (camelCase), so the message can
//! be shown unchanged.

use pulse_auth::Identity;
use pulse_proto::lists::v1 as proto;
use uuid::Uuid;

use crate::domain::{ItemPositions, Permission, RawItemFields};
use crate::store::Share;
use crate::ListsError;

/// A UUID field: `listId is not a UUID`.
pub(super) fn id(field: &str, value: &str) -> Result<Uuid, ListsError> {
    Uuid::parse_str(value.trim()).map_err(|_| ListsError::Invalid(format!("{field} is not a UUID")))
}

/// The display name in the caller's token is stored as the user's name, so
/// it must be text the database can hold, like any field of a request.
pub(super) fn token_name(identity: &Identity) -> Result<(), ListsError> {
    Ok(pulse_service::text::reject_nul(
        "token name",
        &identity.name,
    )?)
}

pub(super) fn new_item(item: Option<proto::NewItem>) -> Result<RawItemFields, ListsError> {
    let item = item.ok_or_else(|| ListsError::Invalid("item is required".into()))?;
    Ok(RawItemFields {
        name: Some(item.name),
        quantity: item.quantity,
        unit: item.unit,
        category_id: item.category_id,
        notes: item.notes,
        image_url: item.image_url,
    })
}

/// A missing patch is an empty one: it changes nothing.
pub(super) fn patch(patch: Option<proto::ItemPatch>) -> RawItemFields {
    let patch = patch.unwrap_or_default();
    RawItemFields {
        name: patch.name,
        quantity: patch.quantity,
        unit: patch.unit,
        category_id: patch.category_id,
        notes: patch.notes,
        image_url: patch.image_url,
    }
}

pub(super) fn item_positions(
    positions: Vec<proto::ItemPosition>,
) -> Result<ItemPositions, ListsError> {
    let parsed = positions
        .iter()
        .enumerate()
        .map(|(index, p)| {
            Ok((
                id(&format!("itemPositions[{index}].itemId"), &p.item_id)?,
                p.position,
            ))
        })
        .collect::<Result<Vec<_>, ListsError>>()?;
    ItemPositions::new(parsed)
}

pub(super) fn share(request: proto::ShareListRequest) -> Result<(Uuid, Share), ListsError> {
    let list_id = id("listId", &request.list_id)?;
    let user_id = id("userId", &request.user_id)?;
    let display_name = request
        .display_name
        .filter(|name| !name.trim().is_empty())
        .map(|name| crate::domain::required_name("displayName", &name))
        .transpose()?;
    let permission = Permission::assignable(&request.permission)?;
    Ok((
        list_id,
        Share {
            user_id,
            display_name,
            permission,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_list_id_names_the_field() {
        assert_eq!(
            pulse_testkit::invalid_message(id("listId", "nope")),
            "listId is not a UUID"
        );
    }

    #[test]
    fn bad_item_position_id_names_its_index() {
        let positions = vec![
            proto::ItemPosition {
                item_id: Uuid::new_v4().to_string(),
                position: 0,
            },
            proto::ItemPosition {
                item_id: "x".into(),
                position: 1,
            },
        ];
        assert_eq!(
            pulse_testkit::invalid_message(item_positions(positions)),
            "itemPositions[1].itemId is not a UUID"
        );
    }

    #[test]
    fn blank_share_display_name_means_use_the_known_name() {
        let request = proto::ShareListRequest {
            list_id: Uuid::new_v4().to_string(),
            user_id: Uuid::new_v4().to_string(),
            display_name: Some("  ".into()),
            permission: "Viewer".into(),
        };
        assert_eq!(share(request).ok().and_then(|(_, s)| s.display_name), None);
    }
}
