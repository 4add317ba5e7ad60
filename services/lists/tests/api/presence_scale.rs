//! The 10,000-connection join and leave, measured through the real service
//! and PostgreSQL (issue 12: "10,000 connections join one list in ≤ 5 s, and
//! leave all at once with no failed call and correct presence afterwards").
//! Ignored by default: it is a measurement, run on its own with
//! `cargo test -p pulse-lists --test api ten_thousand -- --ignored --nocapture`
//! (add `--release` to hold it to the target).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use pulse_proto::lists::v1::PresenceRequest;
use pulse_testkit::{connect, TestDatabase, TestUser};
use uuid::Uuid;

use crate::helpers::{create_list, snapshot, spawn_app_on, AppOptions};

const CONNECTIONS: usize = 10_000;
/// Calls in flight at once: 10,000 clients joining at once are independent
/// connections, so a gateway has many of their enters in flight together.
const IN_FLIGHT: usize = 1_000;
const TARGET: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for issue 12's figures, not a check; run explicitly"]
async fn ten_thousand_connections_of_different_users_enter_one_list_quickly() {
    let db = Arc::new(TestDatabase::create().await);
    let app = spawn_app_on(db.clone(), AppOptions::default()).await;
    let owner = TestUser::new("Owner");
    let mut client = app.client(&owner).await;
    let list = create_list(&mut client, "Crowd").await;
    let list_id: Uuid = list.id.parse().expect("list id");
    let users: Vec<TestUser> = (0..CONNECTIONS)
        .map(|i| TestUser::new(&format!("Viewer {i}")))
        .collect();
    grant_viewers(&db, list_id, &users).await;

    let channel = connect(app.addr()).await;
    // Tokens are signed before the clock starts: a gateway holds them already.
    let bearers: Vec<_> = users.iter().map(TestUser::bearer).collect();
    let presence = |i: usize| PresenceRequest {
        list_id: list.id.clone(),
        connection_id: format!("conn-{i}"),
        avatar_url: None,
    };

    let started = Instant::now();
    let entered: Vec<_> = futures::stream::iter(bearers.iter().enumerate())
        .map(|(i, bearer)| {
            let mut client = ShoppingListsClient::with_interceptor(channel.clone(), bearer.clone());
            let request = presence(i);
            async move { client.enter_list(request).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let joining = started.elapsed();
    let failed = entered.iter().filter(|result| result.is_err()).count();
    println!("{CONNECTIONS} connections entered one list in {joining:?} ({failed} failed)");
    assert_eq!(failed, 0);
    assert_eq!(present_users(&db, list_id).await, CONNECTIONS as i64);

    let started = Instant::now();
    let left: Vec<_> = futures::stream::iter(bearers.iter().enumerate())
        .map(|(i, bearer)| {
            let mut client = ShoppingListsClient::with_interceptor(channel.clone(), bearer.clone());
            let request = presence(i);
            async move { client.exit_list(request).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let leaving = started.elapsed();
    let failed = left.iter().filter(|result| result.is_err()).count();
    println!("{CONNECTIONS} connections left it in {leaving:?} ({failed} failed)");
    assert_eq!(failed, 0);
    assert_eq!(
        present_users(&db, list_id).await,
        0,
        "nobody is left present"
    );
    assert_eq!(
        snapshot(&mut client, &list.id).await.sequence,
        0,
        "presence notices take no sequence number"
    );
    // The target is for an optimized build; a debug build only reports.
    if !cfg!(debug_assertions) {
        assert!(joining <= TARGET, "joining took {joining:?}");
    }
}

async fn present_users(db: &TestDatabase, list_id: Uuid) -> i64 {
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    sqlx::query_scalar("SELECT count(*) FROM present_users WHERE list_id = $1")
        .bind(list_id)
        .fetch_one(&pool)
        .await
        .expect("count")
}

/// Makes every user a viewer of the list directly in the database: the
/// measurement is of entering, not of 10,000 `ShareList` commands.
async fn grant_viewers(db: &TestDatabase, list_id: Uuid, users: &[TestUser]) {
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    sqlx::query(
        "INSERT INTO users (id, display_name) SELECT * FROM UNNEST($1::uuid[], $2::text[])",
    )
    .bind(&ids)
    .bind(&names)
    .execute(&pool)
    .await
    .expect("users");
    sqlx::query(
        "INSERT INTO collaborators (list_id, user_id, permission, added_at)
         SELECT $1, id, 'Viewer', now() FROM UNNEST($2::uuid[]) AS id",
    )
    .bind(list_id)
    .bind(&ids)
    .execute(&pool)
    .await
    .expect("collaborators");
}
