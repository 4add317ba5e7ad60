//! `/hubs/shopping-list` (CONTRACT §3.1): membership of list groups and
//! presence (through the mechanism shared with Lean Coffee, [`presence`]); every command forwarded to the shopping-list service, whose
//! events reach the group through the bus.

use chrono::Utc;
use pulse_proto::lists::v1::{
    shopping_lists_client::ShoppingListsClient, AddItemRequest, ArchiveListRequest,
    ChangeCollaboratorPermissionRequest, CheckAccessRequest, CreateListRequest, DeleteItemRequest,
    GetListRequest, ItemPatch, ItemPosition, NewItem, PresenceUpdate, RemoveCollaboratorRequest,
    ReorderItemsRequest, SetItemPurchasedRequest, ShareListRequest, UpdateItemRequest,
    UpdateListRequest,
};
use pulse_proto::lists::LIST;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{
    access::{Access, Follow},
    forward,
    presence::{self, Scope},
    spec::no_groups,
    Arguments, Caller, HubError, HubKind, HubSpec, OnBehalf, Services, Upstream,
};
use crate::principal::PrincipalKind;

/// The shopping-list service, which this hub and list presence call.
pub(crate) const LISTS: Upstream = Upstream {
    name: "lists",
    default_url: "http://127.0.0.1:50051",
    help: "gRPC URL of the shopping-list service",
};

pub(crate) const HUB: HubKind = HubKind(&HubSpec {
    path: "/hubs/shopping-list",
    dotnet_name: "ShoppingListHub",
    admits: &[PrincipalKind::User],
    automatic_groups: no_groups,
    invoke: Some(|services, caller, target, args| Box::pin(invoke(services, caller, target, args))),
    write_commands: &[
        "CreateList",
        "UpdateList",
        "ArchiveList",
        "AddItem",
        "UpdateItem",
        "DeleteItem",
        "SetItemPurchased",
        "ReorderItems",
        "ShareList",
        "RemoveCollaborator",
        "ChangeCollaboratorPermission",
    ],
    disconnected: Some(presence::disconnected),
    follows: &[Follow::new(
        LIST.kind(),
        Access::Ask(PrincipalKind::User, |services, on_behalf, list_id| {
            Box::pin(may_follow(services, on_behalf, list_id))
        }),
    )],
    upstream: Some(&LISTS),
});

/// A list's events are for those the shopping-list service lets see it
/// (owner and collaborators); the check only reads.
async fn may_follow(
    services: &Services,
    on_behalf: &OnBehalf,
    list_id: Uuid,
) -> Result<bool, tonic::Status> {
    let request = on_behalf.request(CheckAccessRequest {
        list_id: list_id.to_string(),
    });
    let mut lists = ShoppingListsClient::new(services.channels.get(&LISTS)?);
    lists.check_access(request).await?;
    Ok(true)
}

pub(super) async fn invoke(
    services: &Services,
    caller: &mut Caller,
    target: &str,
    args: Arguments,
) -> Result<Option<Value>, HubError> {
    let mut lists = ShoppingListsClient::new(services.channels.get(&LISTS)?);
    match target.to_ascii_lowercase().as_str() {
        "joinlist" => {
            args.expect(1)?;
            join(services, caller, args.id(0, "listId")?).await
        }
        "leavelist" => {
            args.expect(1)?;
            presence::leave(services, caller, Scope::List(args.id(0, "listId")?));
            Ok(None)
        }
        "updatepresence" => {
            args.expect(1)?;
            presence::confirm(services, caller, Scope::List(args.id(0, "listId")?)).await?;
            Ok(None)
        }
        "createlist" => {
            args.expect(1)?;
            let list: CreateListRequest = args.object(0, "list")?;
            forward(lists.create_list(caller.request(list))).await
        }
        "getlist" => {
            args.expect(1)?;
            let request = GetListRequest {
                list_id: args.id(0, "listId")?.to_string(),
            };
            forward(lists.get_list(caller.request(request))).await
        }
        "updatelist" => {
            args.expect(2)?;
            let changes: ListChanges = args.object(1, "changes")?;
            let request = UpdateListRequest {
                list_id: args.id(0, "listId")?.to_string(),
                name: changes.name,
                description: changes.description,
            };
            forward(lists.update_list(caller.request(request))).await
        }
        "archivelist" => {
            let request = ArchiveListRequest {
                list_id: args.id(0, "listId")?.to_string(),
                is_archived: None,
            };
            forward(lists.archive_list(caller.request(request))).await
        }
        "additem" => {
            args.expect(2)?;
            let item: NewItem = args.object(1, "item")?;
            let request = AddItemRequest {
                list_id: args.id(0, "listId")?.to_string(),
                item: Some(item),
            };
            forward(lists.add_item(caller.request(request))).await
        }
        "updateitem" => {
            args.expect(3)?;
            let patch: ItemPatch = args.object(2, "changes")?;
            let request = UpdateItemRequest {
                list_id: args.id(0, "listId")?.to_string(),
                item_id: args.id(1, "itemId")?.to_string(),
                patch: Some(patch),
            };
            forward(lists.update_item(caller.request(request))).await
        }
        "deleteitem" => {
            args.expect(2)?;
            let request = DeleteItemRequest {
                list_id: args.id(0, "listId")?.to_string(),
                item_id: args.id(1, "itemId")?.to_string(),
            };
            forward(lists.delete_item(caller.request(request))).await
        }
        "setitempurchased" => {
            args.expect(3)?;
            let request = SetItemPurchasedRequest {
                list_id: args.id(0, "listId")?.to_string(),
                item_id: args.id(1, "itemId")?.to_string(),
                is_purchased: args.field(2, "isPurchased")?,
            };
            forward(lists.set_item_purchased(caller.request(request))).await
        }
        "reorderitems" => {
            args.expect(2)?;
            let item_positions: Vec<ItemPosition> = args.field(1, "itemPositions")?;
            let request = ReorderItemsRequest {
                list_id: args.id(0, "listId")?.to_string(),
                item_positions,
            };
            forward(lists.reorder_items(caller.request(request))).await
        }
        "sharelist" => {
            args.expect(2)?;
            let share: Share = args.object(1, "collaborator")?;
            let request = ShareListRequest {
                list_id: args.id(0, "listId")?.to_string(),
                user_id: share.user_id,
                display_name: share.display_name,
                permission: share.permission,
            };
            forward(lists.share_list(caller.request(request))).await
        }
        "removecollaborator" => {
            args.expect(2)?;
            let request = RemoveCollaboratorRequest {
                list_id: args.id(0, "listId")?.to_string(),
                user_id: args.id(1, "userId")?.to_string(),
            };
            forward(lists.remove_collaborator(caller.request(request))).await
        }
        "changecollaboratorpermission" => {
            args.expect(3)?;
            let request = ChangeCollaboratorPermissionRequest {
                list_id: args.id(0, "listId")?.to_string(),
                user_id: args.id(1, "userId")?.to_string(),
                permission: args.field(2, "permission")?,
            };
            forward(lists.change_collaborator_permission(caller.request(request))).await
        }
        "getmissedevents" => {
            super::catch_up::get_missed_events(services, caller, &args, LIST, "listId").await
        }
        _ => Err(HubError::UnknownMethod),
    }
}

/// `UpdateList`'s data: only the fields present change.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListChanges {
    name: Option<String>,
    description: Option<String>,
}

/// `ShareList`'s data.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Share {
    user_id: String,
    display_name: Option<String>,
    permission: String,
}

/// Joins the list's group and enters the caller's presence (see
/// [`presence`]); the caller then gets `PresenceUpdate`.
async fn join(
    services: &Services,
    caller: &mut Caller,
    list_id: Uuid,
) -> Result<Option<Value>, HubError> {
    let active_users = presence::join(services, caller, Scope::List(list_id)).await?;
    caller.send(
        "PresenceUpdate",
        &PresenceUpdate {
            event_type: "PresenceUpdate".into(),
            list_id: list_id.to_string(),
            active_users,
            timestamp: pulse_proto::timestamp(Utc::now()),
        },
    );
    tracing::info!(list_id = %list_id, "joined list");
    Ok(None)
}
