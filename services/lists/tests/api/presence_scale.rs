//! The 10,000-connection join, measured through the real service and
//! PostgreSQL (issue 12: "10,000 connections join one list in ≤ 5 s").
//! Ignored by default: it is a measurement, run on its own with
//! `cargo test -p pulse-lists --test api ten_thousand -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use pulse_proto::lists::v1::PresenceRequest;
use pulse_testkit::{connect, TestDatabase, TestUser};
use uuid::Uuid;

use crate::helpers::{create_list, snapshot, spawn_app_on, AppOptions};

const CONNECTIONS: usize = 10_000;
/// Calls in flight at once, as a gateway's bounded presence queue would send them.
const IN_FLIGHT: usize = 64;
const TARGET: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run explicitly"]
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
    let started = Instant::now();
    let entered: Vec<_> = futures::stream::iter(users.iter().enumerate())
        .map(|(i, user)| {
            let mut client = ShoppingListsClient::with_interceptor(channel.clone(), user.bearer());
            let request = PresenceRequest {
                list_id: list.id.clone(),
                connection_id: format!("conn-{i}"),
                avatar_url: None,
            };
            async move { client.enter_list(request).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let failed = entered.iter().filter(|result| result.is_err()).count();
    println!("{CONNECTIONS} connections entered one list in {elapsed:?} ({failed} failed)");

    assert_eq!(failed, 0);
    assert_eq!(
        snapshot(&mut client, &list.id).await.sequence,
        0,
        "presence notices take no sequence number"
    );
    assert!(elapsed <= TARGET, "took {elapsed:?}");
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
