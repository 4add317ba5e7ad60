use std::time::Duration;

use pulse_proto::lists::v1::{event::Kind, PresenceRequest, UpdateListRequest};
use pulse_testkit::{expect_kind, refusal_codes, sorted_ids, TestUser, NOTICE};
use tonic::Code;

use crate::collaborators::share_request;
use crate::helpers::{create_list, snapshot, spawn_app, spawn_app_with, AppOptions};

fn connection(list_id: &str, id: &str) -> PresenceRequest {
    PresenceRequest {
        list_id: list_id.into(),
        connection_id: id.into(),
        avatar_url: None,
    }
}

#[tokio::test]
async fn user_with_two_tabs_joins_once_and_leaves_once() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut owner = app.client(&ann).await;
    let mut guest = app.client(&bob).await;
    let list = create_list(&mut owner, "Groceries").await;
    let mut events = app.subscribe(&list.id).await;
    owner
        .share_list(share_request(&list.id, &bob, "Viewer"))
        .await
        .expect("shared");
    expect_kind!(events.expect(1).await, CollaboratorAdded);

    let mut first_tab = connection(&list.id, "bob-tab-1");
    first_tab.avatar_url = Some("https://example.test/bob.png".into());
    let active = guest
        .enter_list(first_tab.clone())
        .await
        .expect("entered")
        .into_inner();
    assert_eq!(active.active_users.len(), 1);
    assert_eq!(active.active_users[0].id, bob.id.to_string());
    let (envelope, kind) = events.expect_envelope(NOTICE).await;
    assert_eq!(
        envelope.except_user_id,
        Some(bob.id.to_string()),
        "UserJoined goes to the others"
    );
    let joined = expect_kind!(kind, UserJoined);
    let user = joined.user.expect("user");
    assert_eq!(
        (user.id, user.display_name),
        (bob.id.to_string(), "Bob".to_owned())
    );
    assert_eq!(
        user.avatar_url.as_deref(),
        Some("https://example.test/bob.png")
    );

    let active = guest
        .enter_list(connection(&list.id, "bob-tab-2"))
        .await
        .expect("entered")
        .into_inner();
    assert_eq!(active.active_users.len(), 1, "two tabs are one active user");
    owner
        .enter_list(connection(&list.id, "ann-tab"))
        .await
        .expect("entered");
    expect_kind!(events.expect(NOTICE).await, UserJoined);
    guest
        .exit_list(connection(&list.id, "bob-tab-1"))
        .await
        .expect("left one tab");
    guest
        .exit_list(connection(&list.id, "bob-tab-2"))
        .await
        .expect("left the other tab");

    let (envelope, kind) = events.expect_envelope(NOTICE).await;
    let left = expect_kind!(kind, UserLeft);
    assert_eq!(
        (left.user_id, left.display_name),
        (bob.id.to_string(), "Bob".to_owned())
    );
    assert_eq!(envelope.except_user_id, Some(bob.id.to_string()));
    owner
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: Some("Weekly".into()),
            description: None,
        })
        .await
        .expect("renamed");
    expect_kind!(events.expect(2).await, ListUpdated);
    assert_eq!(
        snapshot(&mut owner, &list.id).await.sequence,
        2,
        "presence took no number: the next event follows CollaboratorAdded"
    );
}

#[tokio::test]
async fn concurrent_tabs_of_one_user_emit_a_single_user_joined() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let list = create_list(&mut client, "Groceries").await;
    let mut events = app.subscribe(&list.id).await;
    let tabs: Vec<_> = (0..8)
        .map(|i| connection(&list.id, &format!("tab-{i}")))
        .collect();

    let entered = futures::future::join_all(tabs.iter().cloned().map(|tab| {
        let mut client = client.clone();
        async move { client.enter_list(tab).await }
    }))
    .await;
    assert!(entered.iter().all(Result::is_ok));
    expect_kind!(events.expect(NOTICE).await, UserJoined);

    let left = futures::future::join_all(tabs.into_iter().map(|tab| {
        let mut client = client.clone();
        async move { client.exit_list(tab).await }
    }))
    .await;
    assert!(left.iter().all(Result::is_ok));
    expect_kind!(events.expect(NOTICE).await, UserLeft);
    client
        .update_list(UpdateListRequest {
            list_id: list.id.clone(),
            name: Some("Weekly".into()),
            description: None,
        })
        .await
        .expect("renamed");
    // One UserJoined and one UserLeft, nothing else, and no number taken.
    expect_kind!(events.expect(1).await, ListUpdated);
    assert_eq!(snapshot(&mut client, &list.id).await.sequence, 1);
}

#[tokio::test]
async fn entering_without_access_is_refused_and_touching_an_absent_connection_is_not_found() {
    let app = spawn_app().await;
    let mut owner = app.client(&TestUser::new("Ann")).await;
    let mut stranger = app.client(&TestUser::new("Eve")).await;
    let list = create_list(&mut owner, "Groceries").await;

    let denied = stranger
        .enter_list(connection(&list.id, "eve"))
        .await
        .expect_err("no access");
    let unknown = stranger
        .enter_list(connection(&uuid::Uuid::new_v4().to_string(), "eve"))
        .await
        .expect_err("no list");
    let absent = owner
        .touch_presence(connection(&list.id, "never-entered"))
        .await
        .expect_err("absent");

    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(absent.code(), Code::NotFound);
    owner
        .enter_list(connection(&list.id, "ann"))
        .await
        .expect("entered");
    owner
        .touch_presence(connection(&list.id, "ann"))
        .await
        .expect("heartbeat of a present connection");
}

#[tokio::test]
async fn sweeper_removes_a_silent_connection_and_announces_user_left() {
    let app = spawn_app_with(AppOptions {
        presence_timeout: Duration::from_millis(500),
        presence_sweep_interval: Duration::from_millis(100),
        ..AppOptions::default()
    })
    .await;
    let ann = TestUser::new("Ann");
    let mut client = app.client(&ann).await;
    let list = create_list(&mut client, "Groceries").await;
    let mut events = app.subscribe(&list.id).await;

    client
        .enter_list(connection(&list.id, "silent"))
        .await
        .expect("entered");
    expect_kind!(events.expect(NOTICE).await, UserJoined);

    let (envelope, kind) = events.expect_envelope(NOTICE).await;
    let left = expect_kind!(kind, UserLeft);
    assert_eq!(
        (left.user_id, left.list_id),
        (ann.id.to_string(), list.id.clone())
    );
    assert_eq!(envelope.except_user_id, Some(ann.id.to_string()));
    let gone = client
        .touch_presence(connection(&list.id, "silent"))
        .await
        .expect_err("swept");
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn viewer_may_enter_and_sees_everyone_active() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut owner = app.client(&ann).await;
    let list = create_list(&mut owner, "Groceries").await;
    owner
        .share_list(share_request(&list.id, &bob, "Viewer"))
        .await
        .expect("shared");
    owner
        .enter_list(connection(&list.id, "ann"))
        .await
        .expect("entered");

    let active = app
        .client(&bob)
        .await
        .enter_list(connection(&list.id, "bob"))
        .await
        .expect("a viewer may enter")
        .into_inner();

    let names: Vec<_> = active
        .active_users
        .iter()
        .map(|u| u.display_name.as_str())
        .collect();
    assert_eq!(names, ["Ann", "Bob"], "ordered by when they joined");
}

/// Enters arriving together are answered together (one batch) but each on
/// its own: the admitted get in, the refused change nothing.
#[tokio::test]
async fn a_crowd_entering_at_once_gets_one_answer_each() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut owner = app.client(&ann).await;
    let list = create_list(&mut owner, "Groceries").await;
    let mut events = app.subscribe(&list.id).await;
    owner
        .enter_list(connection(&list.id, "taken"))
        .await
        .expect("entered");
    expect_kind!(events.expect(NOTICE).await, UserJoined);
    let viewers: Vec<TestUser> = (0..6).map(|i| TestUser::new(&format!("V{i}"))).collect();
    for (sequence, viewer) in (1..).zip(&viewers) {
        owner
            .share_list(share_request(&list.id, viewer, "Viewer"))
            .await
            .expect("shared");
        expect_kind!(events.expect(sequence).await, CollaboratorAdded);
    }
    let strangers: Vec<TestUser> = (0..3).map(|i| TestUser::new(&format!("S{i}"))).collect();

    let mut calls = Vec::new();
    for (i, user) in viewers.iter().chain(&strangers).enumerate() {
        calls.push((
            app.client(user).await,
            connection(&list.id, &format!("c{i}")),
        ));
    }
    // A viewer claiming the owner's connection id.
    calls.push((app.client(&viewers[0]).await, connection(&list.id, "taken")));
    let answers = futures::future::join_all(
        calls
            .into_iter()
            .map(|(mut client, request)| async move { client.enter_list(request).await }),
    )
    .await;

    let mut expected = vec![None; viewers.len()];
    expected.extend([Some(Code::PermissionDenied); 3]);
    expected.push(Some(Code::InvalidArgument));
    assert_eq!(refusal_codes(&answers), expected);
    let seen = answers[0].as_ref().expect("admitted").get_ref();
    assert!(seen
        .active_users
        .iter()
        .any(|u| u.id == viewers[0].id.to_string()));
    let joined = events
        .expect_notices(viewers.len(), |event| {
            expect_kind!(event, UserJoined).user.expect("user").id
        })
        .await;
    assert_eq!(
        joined,
        sorted_ids(&viewers),
        "each viewer once, no stranger"
    );
    let everyone = owner
        .enter_list(connection(&list.id, "ann-2"))
        .await
        .expect("entered")
        .into_inner();
    assert_eq!(
        everyone.active_users.len(),
        viewers.len() + 1,
        "no stranger"
    );
}
