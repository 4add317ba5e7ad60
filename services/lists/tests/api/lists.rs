use pulse_proto::lists::v1::{
    event::Kind, ArchiveListRequest, CheckAccessRequest, ListListsRequest, UpdateListRequest,
};
use pulse_testkit::{expect_kind, TestUser};
use tonic::Code;

use crate::helpers::{create_list, snapshot, spawn_app};

#[tokio::test]
async fn created_list_is_owned_by_the_caller_and_emits_nothing() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;

    let list = create_list(&mut client, "  Groceries ").await;

    assert_eq!(list.name, "Groceries");
    assert_eq!(list.owner_id, ann.id.to_string());
    assert!(!list.is_archived);
    assert!(list.created_at.ends_with('Z'));
    let snap = snapshot(&mut client, &list.id).await;
    assert_eq!(snap.sequence, 0);
    assert_eq!(snap.list, Some(list.clone()));
    assert_eq!(snap.collaborators.len(), 1);
    assert_eq!(snap.collaborators[0].user_id, ann.id.to_string());
    assert_eq!(snap.collaborators[0].display_name, "Ann");
    assert_eq!(snap.collaborators[0].permission, "Owner");
    let access = client
        .check_access(CheckAccessRequest {
            list_id: list.id.clone(),
        })
        .await
        .expect("access")
        .into_inner();
    assert_eq!(access.permission, "Owner");
}

#[tokio::test]
async fn list_lists_shows_own_lists_newest_first_and_hides_archived_ones() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let older = create_list(&mut client, "Older").await;
    let newer = create_list(&mut client, "Newer").await;
    let archived = create_list(&mut client, "Archived").await;
    client
        .archive_list(ArchiveListRequest {
            list_id: archived.id.clone(),
            is_archived: None,
        })
        .await
        .expect("archived");
    let mut other = app.client(&TestUser::new("Bob")).await;
    create_list(&mut other, "Not Ann's").await;

    let active = client
        .list_lists(ListListsRequest {
            include_archived: false,
        })
        .await
        .expect("lists")
        .into_inner()
        .lists;
    let all = client
        .list_lists(ListListsRequest {
            include_archived: true,
        })
        .await
        .expect("lists")
        .into_inner()
        .lists;

    let ids = |lists: &[pulse_proto::lists::v1::ShoppingList]| {
        lists.iter().map(|l| l.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&active), [newer.id.clone(), older.id.clone()]);
    assert_eq!(ids(&all), [archived.id, newer.id, older.id]);
}

#[tokio::test]
async fn update_list_emits_only_the_changed_fields() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let list = client
        .create_list(pulse_proto::lists::v1::CreateListRequest {
            name: "Groceries".into(),
            description: Some("weekly".into()),
        })
        .await
        .expect("created")
        .into_inner();
    let mut events = app.subscribe(&list.id).await;

    let updated = client
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: Some("Party".into()),
            description: Some("weekly".into()),
        })
        .await
        .expect("updated")
        .into_inner();

    assert_eq!(updated.name, "Party");
    assert!(updated.updated_at.is_some());
    let (envelope, kind) = events.expect_envelope(1).await;
    assert_eq!(envelope.group, format!("list_{}", list.id));
    assert_eq!(envelope.except_user_id, None);
    let event = expect_kind!(kind, ListUpdated);
    assert_eq!(event.event_type, "ListUpdated");
    assert_eq!(event.list_id, list.id);
    let changes = event.changes.expect("changes");
    assert_eq!(changes.name.as_deref(), Some("Party"));
    assert_eq!(changes.description, None);
    let by = event.updated_by.expect("updatedBy");
    assert_eq!(
        (by.id, by.display_name),
        (ann.id.to_string(), "Ann".to_owned())
    );
    assert!(event.timestamp.ends_with('Z'));
}

#[tokio::test]
async fn update_that_changes_nothing_emits_nothing() {
    let app = spawn_app().await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;

    let same = client
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: Some("Groceries".into()),
            description: None,
        })
        .await
        .expect("no-op update")
        .into_inner();

    assert_eq!(same, list);
    assert_eq!(snapshot(&mut client, &list.id).await.sequence, 0);
}

#[tokio::test]
async fn archived_list_refuses_item_changes_until_restored() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let list = create_list(&mut client, "Groceries").await;
    let mut events = app.subscribe(&list.id).await;

    let archived = client
        .archive_list(ArchiveListRequest {
            list_id: list.id.clone(),
            is_archived: None,
        })
        .await
        .expect("archived")
        .into_inner();
    assert!(archived.is_archived);
    let event = expect_kind!(events.expect(1).await, ListArchived);
    assert!(event.is_archived);
    assert_eq!(
        event.archived_by.expect("archivedBy").id,
        ann.id.to_string()
    );

    let refused = client
        .add_item(crate::items::add_request(&list.id, "Milk"))
        .await
        .expect_err("archived lists refuse items");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(refused.message(), "list is archived");

    client
        .archive_list(ArchiveListRequest {
            list_id: list.id.clone(),
            is_archived: Some(false),
        })
        .await
        .expect("restored");
    let event = expect_kind!(events.expect(2).await, ListArchived);
    assert!(!event.is_archived);
    client
        .add_item(crate::items::add_request(&list.id, "Milk"))
        .await
        .expect("item added after restore");
    expect_kind!(events.expect(3).await, ItemAdded);
}
