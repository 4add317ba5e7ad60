//! A NUL character, the one PostgreSQL text cannot hold, is refused in every
//! text the service stores, with INVALID_ARGUMENT naming the field: nothing
//! is written and nothing announced (the next accepted change takes the very
//! next sequence number), where letting it through would fail in the
//! database as an internal error.

use pulse_proto::lists::v1::{
    AddItemRequest, CreateListRequest, ItemPatch, ListListsRequest, NewItem, PresenceRequest,
    UpdateItemRequest, UpdateListRequest,
};
use pulse_testkit::{assert_refused, expect_kind, TestUser};
use tonic::{Code, Status};

use crate::collaborators::share_request;
use crate::helpers::{create_list, snapshot, spawn_app};
use crate::items::add_request;

/// Text PostgreSQL cannot store: it holds every character but NUL.
const NUL: &str = "free\0range";

fn assert_nul_refused(status: Status, field: &str) {
    let message = format!("{field} cannot contain NUL characters");
    assert_refused(&status, Code::InvalidArgument, &message);
}

fn item(name: &str) -> NewItem {
    NewItem {
        name: name.into(),
        ..NewItem::default()
    }
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_naming_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let bob = TestUser::new("Bob");
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;
    let milk = client
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect("added")
        .into_inner();
    let before = snapshot(&mut client, &list.id).await;
    let mut events = app.subscribe(&list.id).await;

    let new_name = client
        .create_list(CreateListRequest {
            name: NUL.into(),
            description: None,
        })
        .await
        .expect_err("name");
    assert_nul_refused(new_name, "name");
    let new_description = client
        .create_list(CreateListRequest {
            name: "Party".into(),
            description: Some(NUL.into()),
        })
        .await
        .expect_err("description");
    assert_nul_refused(new_description, "description");
    let renamed = client
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: Some(NUL.into()),
            description: None,
        })
        .await
        .expect_err("name");
    assert_nul_refused(renamed, "name");
    let described = client
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: None,
            description: Some(NUL.into()),
        })
        .await
        .expect_err("description");
    assert_nul_refused(described, "description");

    let nul = || Some(NUL.to_owned());
    let new_items = [
        ("name", item(NUL)),
        (
            "unit",
            NewItem {
                unit: nul(),
                ..item("Eggs")
            },
        ),
        (
            "categoryId",
            NewItem {
                category_id: nul(),
                ..item("Eggs")
            },
        ),
        (
            "notes",
            NewItem {
                notes: nul(),
                ..item("Eggs")
            },
        ),
        (
            "imageUrl",
            NewItem {
                image_url: nul(),
                ..item("Eggs")
            },
        ),
    ];
    for (field, new_item) in new_items {
        let added = client
            .add_item(AddItemRequest {
                list_id: list.id.clone(),
                item: Some(new_item),
            })
            .await
            .expect_err(field);
        assert_nul_refused(added, field);
    }
    let patches = [
        (
            "name",
            ItemPatch {
                name: nul(),
                ..ItemPatch::default()
            },
        ),
        (
            "unit",
            ItemPatch {
                unit: nul(),
                ..ItemPatch::default()
            },
        ),
        (
            "categoryId",
            ItemPatch {
                category_id: nul(),
                ..ItemPatch::default()
            },
        ),
        (
            "notes",
            ItemPatch {
                notes: nul(),
                ..ItemPatch::default()
            },
        ),
        (
            "imageUrl",
            ItemPatch {
                image_url: nul(),
                ..ItemPatch::default()
            },
        ),
    ];
    for (field, patch) in patches {
        let updated = client
            .update_item(UpdateItemRequest {
                list_id: list.id.clone(),
                item_id: milk.id.clone(),
                patch: Some(patch),
            })
            .await
            .expect_err(field);
        assert_nul_refused(updated, field);
    }

    let mut share = share_request(&list.id, &bob, "Editor");
    share.display_name = nul();
    let shared = client.share_list(share).await.expect_err("displayName");
    assert_nul_refused(shared, "displayName");

    let presence = |connection_id: &str, avatar_url: Option<String>| PresenceRequest {
        list_id: list.id.clone(),
        connection_id: connection_id.into(),
        avatar_url,
    };
    let entered = client
        .enter_list(presence(NUL, None))
        .await
        .expect_err("connectionId");
    assert_nul_refused(entered, "connectionId");
    let with_avatar = client
        .enter_list(presence("ann-tab", nul()))
        .await
        .expect_err("avatarUrl");
    assert_nul_refused(with_avatar, "avatarUrl");
    let touched = client
        .touch_presence(presence(NUL, None))
        .await
        .expect_err("connectionId");
    assert_nul_refused(touched, "connectionId");
    let exited = client
        .exit_list(presence(NUL, None))
        .await
        .expect_err("connectionId");
    assert_nul_refused(exited, "connectionId");

    let lists = client
        .list_lists(ListListsRequest {
            include_archived: true,
        })
        .await
        .expect("lists")
        .into_inner()
        .lists;
    assert_eq!(lists, std::slice::from_ref(&list), "no list created");
    assert_eq!(
        snapshot(&mut client, &list.id).await,
        before,
        "nothing changed"
    );
    client
        .add_item(add_request(&list.id, "Eggs"))
        .await
        .expect("a valid item is still accepted");
    expect_kind!(events.expect(before.sequence + 1).await, ItemAdded);
}

#[tokio::test]
async fn a_token_name_with_a_nul_character_is_refused_and_never_remembered() {
    let app = spawn_app().await;
    let mallory = TestUser::new("Mal\0lory");
    let mut refused = app.client(&mallory).await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;

    let created = refused
        .create_list(CreateListRequest {
            name: "Mine".into(),
            description: None,
        })
        .await
        .expect_err("token name");
    let listed = refused
        .list_lists(ListListsRequest {
            include_archived: true,
        })
        .await
        .expect_err("token name");

    assert_nul_refused(created, "token name");
    assert_nul_refused(listed, "token name");
    let mut share = share_request(&list.id, &mallory, "Viewer");
    share.display_name = None;
    let unknown = client
        .share_list(share)
        .await
        .expect_err("the refused caller was never stored");
    assert_refused(&unknown, Code::NotFound, "unknown user");
}
