use std::time::Duration;

use pulse_proto::lists::v1::{
    CheckAccessRequest, GetListRequest, ListListsRequest, UpdateListRequest,
};
use pulse_testkit::{wait_until, Bearer, TestUser};
use tonic::Code;
use uuid::Uuid;

use crate::collaborators::share_request;
use crate::helpers::{create_list, snapshot, spawn_app};
use crate::items::add_request;

#[tokio::test]
async fn call_without_a_valid_token_is_unauthenticated() {
    let app = spawn_app().await;
    let mut anonymous = app.anonymous_client().await;
    let forged = Bearer::forged();
    let mut forger = app.client_with(forged).await;

    let missing = anonymous
        .list_lists(ListListsRequest::default())
        .await
        .expect_err("no token");
    let invalid = forger
        .list_lists(ListListsRequest::default())
        .await
        .expect_err("bad token");

    assert_eq!(missing.code(), Code::Unauthenticated);
    assert_eq!(invalid.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn token_not_yet_valid_is_unauthenticated_until_its_nbf() {
    let app = spawn_app().await;
    let user = TestUser::new("Ann");
    // Beyond the validator's 5 s leeway now, within it two seconds later.
    let not_before = chrono::Utc::now().timestamp() + 7;
    let mut early = app
        .client_with(Bearer::new(Some(&user.token_not_before(not_before))))
        .await;

    let refused = early
        .list_lists(ListListsRequest::default())
        .await
        .expect_err("token not yet valid");
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");

    wait_until(
        "accepted at its nbf",
        Duration::from_secs(10),
        async || match early.list_lists(ListListsRequest::default()).await {
            Ok(_) => true,
            Err(status) => {
                assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
                false
            }
        },
    )
    .await;
}

#[tokio::test]
async fn unknown_list_is_not_found_and_a_foreign_list_is_permission_denied() {
    let app = spawn_app().await;
    let mut owner = app.client(&TestUser::new("Ann")).await;
    let mut stranger = app.client(&TestUser::new("Eve")).await;
    let list = create_list(&mut owner, "Groceries").await;
    let unknown = Uuid::new_v4().to_string();

    let missing = stranger
        .get_list(GetListRequest {
            list_id: unknown.clone(),
        })
        .await
        .expect_err("unknown");
    let missing_access = stranger
        .check_access(CheckAccessRequest {
            list_id: unknown.clone(),
        })
        .await
        .expect_err("unknown");
    let missing_item = stranger
        .add_item(add_request(&unknown, "Milk"))
        .await
        .expect_err("unknown");
    let foreign = stranger
        .get_list(GetListRequest {
            list_id: list.id.clone(),
        })
        .await
        .expect_err("foreign");
    let foreign_access = stranger
        .check_access(CheckAccessRequest {
            list_id: list.id.clone(),
        })
        .await
        .expect_err("foreign");
    let foreign_item = stranger
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect_err("foreign");

    for status in [missing, missing_access, missing_item] {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert_eq!(status.message(), "list not found");
    }
    for status in [foreign, foreign_access, foreign_item] {
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
}

#[tokio::test]
async fn viewer_cannot_add_items_and_editor_cannot_share_or_rename() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let vic = TestUser::new("Vic");
    let mut owner = app.client(&ann).await;
    let mut editor = app.client(&bob).await;
    let mut viewer = app.client(&vic).await;
    let list = create_list(&mut owner, "Groceries").await;
    owner
        .share_list(share_request(&list.id, &bob, "Editor"))
        .await
        .expect("shared");
    owner
        .share_list(share_request(&list.id, &vic, "Viewer"))
        .await
        .expect("shared");

    let viewer_adds = viewer
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect_err("viewer");
    let editor_shares = editor
        .share_list(share_request(&list.id, &TestUser::new("Dan"), "Viewer"))
        .await
        .expect_err("editor");
    let editor_renames = editor
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: Some("Mine".into()),
            description: None,
        })
        .await
        .expect_err("editor");
    editor
        .add_item(add_request(&list.id, "Bread"))
        .await
        .expect("editors manage items");
    let viewer_reads = snapshot(&mut viewer, &list.id).await;

    for status in [viewer_adds, editor_shares, editor_renames] {
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    }
    assert_eq!(viewer_reads.items.len(), 1);
    assert_eq!(
        viewer_reads.sequence, 3,
        "two shares and one item, nothing from the refusals"
    );
}
