//! A NUL character, the one PostgreSQL text cannot hold, is refused in every
//! text the service stores, with INVALID_ARGUMENT naming the field: nothing
//! is written and nothing announced (the next accepted change takes the very
//! next sequence number), where letting it through would fail in the
//! database as an internal error.

use pulse_proto::lists::v1::{
    event::Kind, AddItemRequest, CreateListRequest, ItemPatch, ListListsRequest, NewItem,
    PresenceRequest, ShareListRequest, UpdateItemRequest, UpdateListRequest,
};
use pulse_testkit::{assert_refused, expect_kind, NulInputs, TestUser};
use tonic::Code;

use crate::collaborators::share_request;
use crate::helpers::{create_list, snapshot, spawn_app};
use crate::items::add_request;

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
    let list_id = || list.id.clone();
    let add = |item: NewItem| AddItemRequest {
        list_id: list_id(),
        item: Some(item),
    };
    let update = |patch: ItemPatch| UpdateItemRequest {
        list_id: list_id(),
        item_id: milk.id.clone(),
        patch: Some(patch),
    };
    let share = share_request(&list.id, &bob, "Editor");
    let presence = |connection_id: String, avatar_url: Option<String>| PresenceRequest {
        list_id: list_id(),
        connection_id,
        avatar_url,
    };

    NulInputs::new()
        .row("name", &client, |mut c, nul| async move {
            c.create_list(CreateListRequest {
                name: nul,
                description: None,
            })
            .await
        })
        .row("description", &client, |mut c, nul| async move {
            c.create_list(CreateListRequest {
                name: "Party".into(),
                description: Some(nul),
            })
            .await
        })
        .row("name", &client, |mut c, nul| async move {
            c.update_list(UpdateListRequest {
                list_id: list_id(),
                name: Some(nul),
                description: None,
            })
            .await
        })
        .row("description", &client, |mut c, nul| async move {
            c.update_list(UpdateListRequest {
                list_id: list_id(),
                name: None,
                description: Some(nul),
            })
            .await
        })
        .row("name", &client, |mut c, nul| async move {
            c.add_item(add(item(&nul))).await
        })
        .row("unit", &client, |mut c, nul| async move {
            c.add_item(add(NewItem {
                unit: Some(nul),
                ..item("Eggs")
            }))
            .await
        })
        .row("categoryId", &client, |mut c, nul| async move {
            c.add_item(add(NewItem {
                category_id: Some(nul),
                ..item("Eggs")
            }))
            .await
        })
        .row("notes", &client, |mut c, nul| async move {
            c.add_item(add(NewItem {
                notes: Some(nul),
                ..item("Eggs")
            }))
            .await
        })
        .row("imageUrl", &client, |mut c, nul| async move {
            c.add_item(add(NewItem {
                image_url: Some(nul),
                ..item("Eggs")
            }))
            .await
        })
        .row("name", &client, |mut c, nul| async move {
            c.update_item(update(ItemPatch {
                name: Some(nul),
                ..ItemPatch::default()
            }))
            .await
        })
        .row("unit", &client, |mut c, nul| async move {
            c.update_item(update(ItemPatch {
                unit: Some(nul),
                ..ItemPatch::default()
            }))
            .await
        })
        .row("categoryId", &client, |mut c, nul| async move {
            c.update_item(update(ItemPatch {
                category_id: Some(nul),
                ..ItemPatch::default()
            }))
            .await
        })
        .row("notes", &client, |mut c, nul| async move {
            c.update_item(update(ItemPatch {
                notes: Some(nul),
                ..ItemPatch::default()
            }))
            .await
        })
        .row("imageUrl", &client, |mut c, nul| async move {
            c.update_item(update(ItemPatch {
                image_url: Some(nul),
                ..ItemPatch::default()
            }))
            .await
        })
        .row("displayName", &client, |mut c, nul| async move {
            c.share_list(ShareListRequest {
                display_name: Some(nul),
                ..share
            })
            .await
        })
        .row("connectionId", &client, |mut c, nul| async move {
            c.enter_list(presence(nul, None)).await
        })
        .row("avatarUrl", &client, |mut c, nul| async move {
            c.enter_list(presence("ann-tab".into(), Some(nul))).await
        })
        .row("connectionId", &client, |mut c, nul| async move {
            c.touch_presence(presence(nul, None)).await
        })
        .row("connectionId", &client, |mut c, nul| async move {
            c.exit_list(presence(nul, None)).await
        })
        .assert_refused()
        .await;

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
    let refused = app.client(&mallory).await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;

    NulInputs::new()
        .row("token name", &refused, |mut c, _| async move {
            c.create_list(CreateListRequest {
                name: "Mine".into(),
                description: None,
            })
            .await
        })
        .row("token name", &refused, |mut c, _| async move {
            c.list_lists(ListListsRequest {
                include_archived: true,
            })
            .await
        })
        .assert_refused()
        .await;

    let mut share = share_request(&list.id, &mallory, "Viewer");
    share.display_name = None;
    let unknown = client
        .share_list(share)
        .await
        .expect_err("the refused caller was never stored");
    assert_refused(&unknown, Code::NotFound, "unknown user");
}
