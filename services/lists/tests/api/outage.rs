//! The database becomes unreachable under a running service: calls fail with
//! the retryable UNAVAILABLE (never INTERNAL), change nothing, and succeed
//! again once it is back.

use std::sync::Arc;

use pulse_proto::lists::v1::{CreateListRequest, ListListsRequest};
use pulse_testkit::{poll_until, TcpProxy, TestDatabase, TestUser, PATIENCE};
use tonic::Code;

use crate::helpers::{create_list, snapshot, spawn_app_on, AppOptions};
use crate::items::add_request;

#[tokio::test]
async fn unreachable_database_is_unavailable_and_calls_succeed_again_once_it_is_back() {
    let db = Arc::new(TestDatabase::create().await);
    let proxy = TcpProxy::start(db.server()).await;
    let app = spawn_app_on(
        db.clone(),
        AppOptions {
            database_url: Some(db.url_through(proxy.addr())),
            ..AppOptions::default()
        },
    )
    .await;
    let mut client = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut client, "Groceries").await;

    proxy.cut();
    let created = client
        .create_list(CreateListRequest {
            name: "Hardware".into(),
            description: None,
        })
        .await
        .expect_err("database unreachable");
    let added = client
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect_err("database unreachable");
    let listed = client
        .list_lists(ListListsRequest::default())
        .await
        .expect_err("database unreachable");
    for status in [created, added, listed] {
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert_eq!(
            status.message(),
            "service temporarily unavailable, please retry"
        );
    }

    proxy.restore();
    let what = "the lists listed again after the database came back";
    let lists = poll_until(what, PATIENCE, async || {
        match client.list_lists(ListListsRequest::default()).await {
            Ok(lists) => Some(lists.into_inner().lists),
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                None
            }
        }
    })
    .await;
    assert_eq!(lists.len(), 1, "the refused create changed nothing");
    assert_eq!(lists[0].id, list.id);
    assert!(
        snapshot(&mut client, &list.id).await.items.is_empty(),
        "the refused add changed nothing"
    );
}
