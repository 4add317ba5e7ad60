use std::{sync::Arc, time::Duration};

use pulse_proto::lists::v1::{
    event::Kind, ChangeCollaboratorPermissionRequest, CheckAccessRequest, PresenceRequest,
    RemoveCollaboratorRequest, ShareListRequest,
};
use pulse_testkit::{expect_kind, TestDatabase, TestUser};
use sqlx::{Connection, PgConnection};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{create_list, snapshot, spawn_app, spawn_app_on, AppOptions, Client};

pub fn share_request(list_id: &str, user: &TestUser, permission: &str) -> ShareListRequest {
    ShareListRequest {
        list_id: list_id.into(),
        user_id: user.id.to_string(),
        display_name: Some(user.name.clone()),
        permission: permission.into(),
    }
}

async fn check_access(client: &mut Client, list_id: &str) -> Result<String, tonic::Status> {
    client
        .check_access(CheckAccessRequest {
            list_id: list_id.into(),
        })
        .await
        .map(|response| response.into_inner().permission)
}

#[tokio::test]
async fn sharing_changing_and_removing_a_collaborator_emit_their_events() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut owner = app.client(&ann).await;
    let mut guest = app.client(&bob).await;
    let list = create_list(&mut owner, "Groceries").await;
    let mut events = app.subscribe(&list.id).await;

    let added = owner
        .share_list(share_request(&list.id, &bob, "Editor"))
        .await
        .expect("shared")
        .into_inner();
    assert_eq!(
        (added.user_id.as_str(), added.display_name.as_str()),
        (bob.id.to_string().as_str(), "Bob")
    );
    assert_eq!(added.permission, "Editor");
    let event = expect_kind!(events.expect(1).await, CollaboratorAdded);
    assert_eq!(event.collaborator, Some(added));
    assert_eq!(
        event.invited_by.map(|u| u.display_name),
        Some("Ann".to_owned())
    );
    assert_eq!(
        check_access(&mut guest, &list.id).await.expect("access"),
        "Editor"
    );

    let changed = owner
        .change_collaborator_permission(ChangeCollaboratorPermissionRequest {
            list_id: list.id.clone(),
            user_id: bob.id.to_string(),
            permission: "Viewer".into(),
        })
        .await
        .expect("changed")
        .into_inner();
    assert_eq!(changed.permission, "Viewer");
    let event = expect_kind!(events.expect(2).await, CollaboratorPermissionChanged);
    assert_eq!(
        (event.old_permission.as_str(), event.new_permission.as_str()),
        ("Editor", "Viewer")
    );
    assert_eq!(
        (event.user_id, event.display_name),
        (bob.id.to_string(), "Bob".to_owned())
    );
    assert_eq!(event.changed_by.map(|u| u.id), Some(ann.id.to_string()));

    owner
        .remove_collaborator(RemoveCollaboratorRequest {
            list_id: list.id.clone(),
            user_id: bob.id.to_string(),
        })
        .await
        .expect("removed");
    let event = expect_kind!(events.expect(3).await, CollaboratorRemoved);
    assert_eq!(
        (event.user_id, event.display_name),
        (bob.id.to_string(), "Bob".to_owned())
    );
    assert_eq!(event.removed_by.map(|u| u.id), Some(ann.id.to_string()));
    let denied = check_access(&mut guest, &list.id)
        .await
        .expect_err("no longer a collaborator");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(snapshot(&mut owner, &list.id).await.sequence, 3);
}

#[tokio::test]
async fn sharing_twice_already_exists_and_sharing_with_the_owner_is_invalid() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut owner = app.client(&ann).await;
    let list = create_list(&mut owner, "Groceries").await;
    owner
        .share_list(share_request(&list.id, &bob, "Viewer"))
        .await
        .expect("shared");

    let twice = owner
        .share_list(share_request(&list.id, &bob, "Editor"))
        .await
        .expect_err("twice");
    let with_owner = owner
        .share_list(share_request(&list.id, &ann, "Editor"))
        .await
        .expect_err("owner");

    assert_eq!(twice.code(), Code::AlreadyExists);
    assert_eq!(with_owner.code(), Code::InvalidArgument);
    assert_eq!(snapshot(&mut owner, &list.id).await.sequence, 1);
}

#[tokio::test]
async fn sharing_uses_the_known_name_and_refuses_unknown_users_without_one() {
    let app = spawn_app().await;
    let mut owner = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut owner, "Groceries").await;
    let known = TestUser::new("Carol");
    create_list(&mut app.client(&known).await, "Carol's").await;

    let mut request = share_request(&list.id, &known, "Viewer");
    request.display_name = None;
    let carol = owner
        .share_list(request)
        .await
        .expect("known user")
        .into_inner();
    let mut request = share_request(&list.id, &TestUser::new("Nobody"), "Viewer");
    request.display_name = None;
    let unknown = owner.share_list(request).await.expect_err("unknown user");

    assert_eq!(carol.display_name, "Carol");
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(unknown.message(), "unknown user");
}

#[tokio::test]
async fn collaborator_may_leave_but_not_remove_others() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let eve = TestUser::new("Eve");
    let mut owner = app.client(&ann).await;
    let mut editor = app.client(&bob).await;
    let list = create_list(&mut owner, "Groceries").await;
    owner
        .share_list(share_request(&list.id, &bob, "Editor"))
        .await
        .expect("shared");
    owner
        .share_list(share_request(&list.id, &eve, "Viewer"))
        .await
        .expect("shared");

    let others = editor
        .remove_collaborator(RemoveCollaboratorRequest {
            list_id: list.id.clone(),
            user_id: eve.id.to_string(),
        })
        .await
        .expect_err("editor removes someone else");
    let owner_removed = owner
        .remove_collaborator(RemoveCollaboratorRequest {
            list_id: list.id.clone(),
            user_id: ann.id.to_string(),
        })
        .await
        .expect_err("owner removes themself");
    editor
        .remove_collaborator(RemoveCollaboratorRequest {
            list_id: list.id.clone(),
            user_id: bob.id.to_string(),
        })
        .await
        .expect("editor leaves");

    assert_eq!(others.code(), Code::PermissionDenied);
    assert_eq!(owner_removed.code(), Code::InvalidArgument);
    let snap = snapshot(&mut owner, &list.id).await;
    assert_eq!(snap.collaborators.len(), 2);
    assert_eq!(snap.sequence, 3);
}

#[tokio::test]
async fn removing_a_present_collaborator_ends_their_presence() {
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
    let presence = PresenceRequest {
        list_id: list.id.clone(),
        connection_id: "bob-1".into(),
        avatar_url: None,
    };
    guest.enter_list(presence.clone()).await.expect("entered");
    // Presence notices take no sequence number (0).
    expect_kind!(events.expect(0).await, UserJoined);

    owner
        .remove_collaborator(RemoveCollaboratorRequest {
            list_id: list.id.clone(),
            user_id: bob.id.to_string(),
        })
        .await
        .expect("removed");

    expect_kind!(events.expect(2).await, CollaboratorRemoved);
    let (envelope, kind) = events.expect_envelope(0).await;
    assert_eq!(expect_kind!(kind, UserLeft).user_id, bob.id.to_string());
    assert_eq!(envelope.except_user_id, Some(bob.id.to_string()));
    let gone = guest
        .touch_presence(presence)
        .await
        .expect_err("presence ended");
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn changing_an_unknown_collaborator_is_not_found() {
    let app = spawn_app().await;
    let mut owner = app.client(&TestUser::new("Ann")).await;
    let list = create_list(&mut owner, "Groceries").await;

    let status = owner
        .change_collaborator_permission(ChangeCollaboratorPermissionRequest {
            list_id: list.id,
            user_id: Uuid::new_v4().to_string(),
            permission: "Editor".into(),
        })
        .await
        .expect_err("unknown collaborator");

    assert_eq!(status.code(), Code::NotFound);
}

/// Sharing checks under the list's lock that the user is not a collaborator
/// yet, but that check cannot see a collaborator row another transaction
/// has written and not yet committed. The share then waits on the key, and
/// when the row commits the key refuses it: the caller is told
/// ALREADY_EXISTS, as the check would have told them, not "internal error".
#[tokio::test]
async fn sharing_that_collides_on_the_key_after_the_check_is_told_already_exists() {
    let db = Arc::new(TestDatabase::create().await);
    let app = spawn_app_on(db.clone(), AppOptions::default()).await;
    let ann = TestUser::new("Ann");
    let bob = TestUser::new("Bob");
    let mut owner = app.client(&ann).await;
    let list = create_list(&mut owner, "Groceries").await;
    let list_id: Uuid = list.id.parse().expect("list id");

    let mut writer = PgConnection::connect(&db.url()).await.expect("database");
    sqlx::query("INSERT INTO users (id, display_name) VALUES ($1, 'Bob')")
        .bind(bob.id)
        .execute(&mut writer)
        .await
        .expect("user");
    let mut uncommitted = writer.begin().await.expect("transaction");
    sqlx::query(
        "INSERT INTO collaborators (list_id, user_id, permission, added_at)
         VALUES ($1, $2, 'Viewer', now())",
    )
    .bind(list_id)
    .bind(bob.id)
    .execute(&mut *uncommitted)
    .await
    .expect("collaborator");

    let sharing = tokio::spawn(async move {
        owner
            .share_list(share_request(&list.id, &bob, "Editor"))
            .await
    });
    wait_for_a_lock_wait(&db).await;
    uncommitted.commit().await.expect("commit");

    let refused = sharing
        .await
        .expect("share task")
        .expect_err("the key refuses the second collaborator");
    assert_eq!(
        (refused.code(), refused.message()),
        (Code::AlreadyExists, "user is already a collaborator")
    );
}

/// Waits until a session of the test's database waits for a lock (the
/// share's insert, on the uncommitted key), or fails after ten seconds.
async fn wait_for_a_lock_wait(db: &TestDatabase) {
    let mut observer = PgConnection::connect(&db.url()).await.expect("database");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut observer)
        .await
        .expect("activity");
        if waiting > 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the share never waited on the key"
        );
        tokio::task::yield_now().await;
    }
}
