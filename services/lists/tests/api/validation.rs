use pulse_proto::lists::v1::{
    AddItemRequest, ChangeCollaboratorPermissionRequest, CreateListRequest, GetListRequest,
    ItemPatch, ItemPosition, ListListsRequest, NewItem, PresenceRequest, ReorderItemsRequest,
    UpdateItemRequest, UpdateListRequest,
};
use pulse_testkit::TestUser;
use tonic::{Code, Status};

use crate::collaborators::share_request;
use crate::helpers::{create_list, snapshot, spawn_app};
use crate::items::add_request;

fn assert_invalid(status: Status, message: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(status.message(), message);
}

#[tokio::test]
async fn invalid_list_names_are_refused_with_a_clear_message_and_create_nothing() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;

    let empty = client
        .create_list(CreateListRequest {
            name: "   ".into(),
            description: None,
        })
        .await
        .expect_err("empty");
    let long = client
        .create_list(CreateListRequest {
            name: "x".repeat(201),
            description: None,
        })
        .await
        .expect_err("long");

    assert_invalid(empty, "name must not be empty");
    assert_invalid(long, "name must be at most 200 characters");
    let lists = client
        .list_lists(ListListsRequest {
            include_archived: true,
        })
        .await
        .expect("lists");
    assert!(lists.into_inner().lists.is_empty());
}

#[tokio::test]
async fn invalid_commands_on_a_list_change_nothing_and_emit_nothing() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let list = create_list(&mut client, "Groceries").await;
    let milk = client
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect("added")
        .into_inner();
    let before = snapshot(&mut client, &list.id).await;

    let zero = client
        .add_item(AddItemRequest {
            list_id: list.id.clone(),
            item: Some(NewItem {
                name: "Eggs".into(),
                quantity: Some(0.0),
                ..NewItem::default()
            }),
        })
        .await
        .expect_err("zero quantity");
    let not_a_number = client
        .update_item(UpdateItemRequest {
            list_id: list.id.clone(),
            item_id: milk.id.clone(),
            patch: Some(ItemPatch {
                quantity: Some(f64::NAN),
                ..ItemPatch::default()
            }),
        })
        .await
        .expect_err("NaN quantity");
    let blank_name = client
        .update_item(UpdateItemRequest {
            list_id: list.id.clone(),
            item_id: milk.id.clone(),
            patch: Some(ItemPatch {
                name: Some("".into()),
                quantity: Some(5.0),
                ..ItemPatch::default()
            }),
        })
        .await
        .expect_err("blank name");
    let rename = client
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: Some(" ".into()),
            description: None,
        })
        .await
        .expect_err("blank list name");
    let boss = client
        .share_list(share_request(&list.id, &TestUser::new("Bob"), "Boss"))
        .await
        .expect_err("unknown permission");
    let owner = client
        .change_collaborator_permission(ChangeCollaboratorPermissionRequest {
            list_id: list.id.clone(),
            user_id: ann.id.to_string(),
            permission: "Owner".into(),
        })
        .await
        .expect_err("owner is not assignable");
    let negative = client
        .reorder_items(ReorderItemsRequest {
            list_id: list.id.clone(),
            item_positions: vec![ItemPosition {
                item_id: milk.id.clone(),
                position: -1,
            }],
        })
        .await
        .expect_err("negative position");
    let no_connection = client
        .enter_list(PresenceRequest {
            list_id: list.id.clone(),
            connection_id: "".into(),
            avatar_url: None,
        })
        .await
        .expect_err("no connection id");

    assert_invalid(zero, "quantity must be a positive number");
    assert_invalid(not_a_number, "quantity must be a positive number");
    assert_invalid(blank_name, "name must not be empty");
    assert_invalid(rename, "name must not be empty");
    assert_invalid(
        boss,
        "unknown permission 'Boss' (expected Editor or Viewer)",
    );
    assert_invalid(
        owner,
        "permission 'Owner' cannot be assigned (expected Editor or Viewer)",
    );
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert_invalid(no_connection, "connectionId must not be empty");
    assert_eq!(
        snapshot(&mut client, &list.id).await,
        before,
        "nothing changed, no event"
    );
}

#[tokio::test]
async fn category_ids_must_be_uuids_and_image_urls_http_links_and_nothing_else_is_stored() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;
    let milk = client
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect("added")
        .into_inner();
    let before = snapshot(&mut client, &list.id).await;
    let add = |item: NewItem| AddItemRequest {
        list_id: list.id.clone(),
        item: Some(NewItem {
            name: "Apples".into(),
            ..item
        }),
    };
    let update = |patch: ItemPatch| UpdateItemRequest {
        list_id: list.id.clone(),
        item_id: milk.id.clone(),
        patch: Some(patch),
    };

    let refusals = [
        (
            client
                .add_item(add(NewItem {
                    category_id: Some("zzz".into()),
                    ..NewItem::default()
                }))
                .await,
            "categoryId must be a UUID",
        ),
        (
            client
                .add_item(add(NewItem {
                    image_url: Some("javascript:alert(1)".into()),
                    ..NewItem::default()
                }))
                .await,
            "imageUrl must be an absolute http or https URL",
        ),
        (
            client
                .update_item(update(ItemPatch {
                    category_id: Some("42".into()),
                    ..ItemPatch::default()
                }))
                .await,
            "categoryId must be a UUID",
        ),
        (
            client
                .update_item(update(ItemPatch {
                    image_url: Some("/images/milk.png".into()),
                    ..ItemPatch::default()
                }))
                .await,
            "imageUrl must be an absolute http or https URL",
        ),
    ];
    for (result, message) in refusals {
        assert_invalid(result.expect_err(message), message);
    }
    assert_eq!(
        snapshot(&mut client, &list.id).await,
        before,
        "nothing changed, no event"
    );

    let category = uuid::Uuid::new_v4();
    let apples = client
        .add_item(add(NewItem {
            category_id: Some(category.to_string().to_uppercase()),
            image_url: Some("https://example.com/apples.png".into()),
            ..NewItem::default()
        }))
        .await
        .expect("a UUID and an https link are accepted")
        .into_inner();
    assert_eq!(apples.category_id, Some(category.to_string()));
    assert_eq!(
        apples.image_url.as_deref(),
        Some("https://example.com/apples.png")
    );
}

#[tokio::test]
async fn malformed_ids_are_invalid_arguments_naming_the_field() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;

    let list_id = client
        .get_list(GetListRequest {
            list_id: "nope".into(),
        })
        .await
        .expect_err("bad id");
    let item_id = client
        .update_item(UpdateItemRequest {
            list_id: list.id.clone(),
            item_id: "42".into(),
            patch: None,
        })
        .await
        .expect_err("bad id");
    let mut share = share_request(&list.id, &TestUser::new("Bob"), "Editor");
    share.user_id = "bob".into();
    let user_id = client.share_list(share).await.expect_err("bad id");

    assert_invalid(list_id, "listId is not a UUID");
    assert_invalid(item_id, "itemId is not a UUID");
    assert_invalid(user_id, "userId is not a UUID");
}
