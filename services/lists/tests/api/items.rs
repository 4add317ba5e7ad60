use pulse_proto::lists::v1::{
    event::Kind, AddItemRequest, DeleteItemRequest, ItemPatch, ItemPosition, NewItem,
    ReorderItemsRequest, SetItemPurchasedRequest, UpdateItemRequest,
};
use pulse_testkit::{expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{create_list, snapshot, spawn_app};

pub fn add_request(list_id: &str, name: &str) -> AddItemRequest {
    AddItemRequest {
        list_id: list_id.into(),
        item: Some(NewItem {
            name: name.into(),
            ..NewItem::default()
        }),
    }
}

#[tokio::test]
async fn item_commands_emit_their_events_in_sequence_without_gaps() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let list = create_list(&mut client, "Groceries").await;
    let mut events = app.subscribe(&list.id).await;

    let milk = client
        .add_item(AddItemRequest {
            list_id: list.id.clone(),
            item: Some(NewItem {
                name: "Milk".into(),
                quantity: Some(2.0),
                unit: Some("l".into()),
                notes: Some("".into()),
                ..NewItem::default()
            }),
        })
        .await
        .expect("added")
        .into_inner();
    assert_eq!(
        (milk.position, milk.quantity, milk.notes.clone()),
        (0, 2.0, None)
    );
    let added = expect_kind!(events.expect(1).await, ItemAdded);
    assert_eq!(added.event_type, "ItemAdded");
    assert_eq!(added.list_id, list.id);
    assert_eq!(added.item.as_ref(), Some(&milk));
    let creator = milk.created_by.clone().expect("createdBy");
    assert_eq!(
        (creator.id, creator.display_name),
        (ann.id.to_string(), "Ann".to_owned())
    );

    let bread = client
        .add_item(add_request(&list.id, "Bread"))
        .await
        .expect("added")
        .into_inner();
    assert_eq!((bread.position, bread.quantity), (1, 1.0));
    expect_kind!(events.expect(2).await, ItemAdded);

    let updated = client
        .update_item(UpdateItemRequest {
            list_id: list.id.clone(),
            item_id: milk.id.clone(),
            patch: Some(ItemPatch {
                name: Some("Milk".into()),
                quantity: Some(3.0),
                notes: Some("oat".into()),
                ..ItemPatch::default()
            }),
        })
        .await
        .expect("updated")
        .into_inner();
    assert_eq!(
        (updated.quantity, updated.notes.as_deref()),
        (3.0, Some("oat"))
    );
    assert_eq!(
        updated.updated_by.as_ref().map(|u| u.id.clone()),
        Some(ann.id.to_string())
    );
    let event = expect_kind!(events.expect(3).await, ItemUpdated);
    assert_eq!(event.changed_fields, ["quantity", "notes"]);
    assert_eq!(event.item, Some(updated.clone()));

    let purchased = client
        .set_item_purchased(SetItemPurchasedRequest {
            list_id: list.id.clone(),
            item_id: milk.id.clone(),
            is_purchased: true,
        })
        .await
        .expect("purchased")
        .into_inner();
    assert!(purchased.is_purchased);
    let event = expect_kind!(events.expect(4).await, ItemPurchasedStatusChanged);
    assert!(event.is_purchased);
    assert_eq!(event.item_id, milk.id);
    assert_eq!(
        event.purchased_by.map(|u| u.display_name),
        Some("Ann".to_owned())
    );
    assert_eq!(event.purchased_at, purchased.purchased_at);
    assert!(event.purchased_at.is_some());

    client
        .set_item_purchased(SetItemPurchasedRequest {
            list_id: list.id.clone(),
            item_id: milk.id.clone(),
            is_purchased: false,
        })
        .await
        .expect("unpurchased");
    let event = expect_kind!(events.expect(5).await, ItemPurchasedStatusChanged);
    assert!(!event.is_purchased);
    assert_eq!((event.purchased_by, event.purchased_at), (None, None));

    let positions = vec![
        ItemPosition {
            item_id: bread.id.clone(),
            position: 0,
        },
        ItemPosition {
            item_id: milk.id.clone(),
            position: 1,
        },
    ];
    let reordered = client
        .reorder_items(ReorderItemsRequest {
            list_id: list.id.clone(),
            item_positions: positions.clone(),
        })
        .await
        .expect("reordered")
        .into_inner();
    assert_eq!(reordered.item_positions, positions);
    let event = expect_kind!(events.expect(6).await, ItemsReordered);
    assert_eq!(event.item_positions, positions);
    assert_eq!(event.reordered_by.map(|u| u.id), Some(ann.id.to_string()));

    let deleted = client
        .delete_item(DeleteItemRequest {
            list_id: list.id.clone(),
            item_id: bread.id.clone(),
        })
        .await
        .expect("deleted")
        .into_inner();
    assert_eq!(deleted.item_id, bread.id);
    let event = expect_kind!(events.expect(7).await, ItemDeleted);
    assert_eq!(event.item_id, bread.id);
    assert_eq!(
        event.deleted_by.map(|u| u.display_name),
        Some("Ann".to_owned())
    );

    let snap = snapshot(&mut client, &list.id).await;
    assert_eq!(
        snap.sequence, 7,
        "the snapshot reflects exactly the events so far"
    );
    assert_eq!(snap.items.len(), 1);
    assert_eq!(
        (snap.items[0].id.clone(), snap.items[0].position),
        (milk.id, 1)
    );
}

#[tokio::test]
async fn patch_that_changes_nothing_returns_the_item_and_emits_nothing() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;
    let milk = client
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect("added")
        .into_inner();

    let same = client
        .update_item(UpdateItemRequest {
            list_id: list.id.clone(),
            item_id: milk.id.clone(),
            patch: Some(ItemPatch {
                name: Some(" Milk ".into()),
                quantity: Some(1.0),
                ..ItemPatch::default()
            }),
        })
        .await
        .expect("no-op patch")
        .into_inner();

    assert_eq!(same, milk);
    assert_eq!(snapshot(&mut client, &list.id).await.sequence, 1);
}

#[tokio::test]
async fn reorder_with_an_item_of_another_list_is_not_found_and_changes_nothing() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;
    let other = create_list(&mut client, "Hardware").await;
    let milk = client
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect("added")
        .into_inner();
    let nails = client
        .add_item(add_request(&other.id, "Nails"))
        .await
        .expect("added")
        .into_inner();

    let refused = client
        .reorder_items(ReorderItemsRequest {
            list_id: list.id.clone(),
            item_positions: vec![
                ItemPosition {
                    item_id: milk.id.clone(),
                    position: 5,
                },
                ItemPosition {
                    item_id: nails.id,
                    position: 0,
                },
            ],
        })
        .await
        .expect_err("foreign item");

    assert_eq!(refused.code(), Code::NotFound);
    let snap = snapshot(&mut client, &list.id).await;
    assert_eq!((snap.sequence, snap.items[0].position), (1, 0));
}

#[tokio::test]
async fn unknown_item_is_not_found() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let update = client
        .update_item(UpdateItemRequest {
            list_id: list.id.clone(),
            item_id: unknown.clone(),
            patch: None,
        })
        .await
        .expect_err("unknown item");
    let delete = client
        .delete_item(DeleteItemRequest {
            list_id: list.id.clone(),
            item_id: unknown.clone(),
        })
        .await
        .expect_err("unknown item");
    let purchase = client
        .set_item_purchased(SetItemPurchasedRequest {
            list_id: list.id,
            item_id: unknown,
            is_purchased: true,
        })
        .await
        .expect_err("unknown item");

    for status in [update, delete, purchase] {
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "item not found");
    }
}
