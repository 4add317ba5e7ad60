use std::sync::Arc;

use pulse_bus::StartAt;
use pulse_proto::lists::v1::event::Kind;
use pulse_testkit::{expect_kind, NatsServer, TestDatabase, TestUser};

use crate::helpers::{create_list, spawn_app_on, AppOptions};
use crate::items::add_request;

/// Group sequences of the events still waiting in the outbox, oldest first.
async fn outbox_sequences(db: &TestDatabase) -> Vec<i64> {
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let sequences = sqlx::query_scalar("SELECT sequence FROM pulse_outbox ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("outbox");
    pool.close().await;
    sequences
}

#[tokio::test]
async fn event_committed_while_nats_is_down_is_delivered_once_after_restart() {
    let mut nats = NatsServer::start();
    let db = Arc::new(TestDatabase::create().await);
    let options = AppOptions {
        nats_url: nats.url(),
        ..AppOptions::default()
    };
    let ann = TestUser::new("Ann");
    let app = spawn_app_on(db.clone(), options.clone()).await;
    let mut client = app.client(&ann).await;
    let list = create_list(&mut client, "Groceries").await;
    let mut live = app.subscribe(&list.id).await;
    client
        .add_item(add_request(&list.id, "Milk"))
        .await
        .expect("added while NATS is up");
    live.expect(1).await;
    drop(live);

    nats.stop();
    client
        .add_item(add_request(&list.id, "Bread"))
        .await
        .expect("commands succeed while NATS is down");
    app.stop().await;
    // The first event may still be there too: NATS can die after storing
    // it but before acknowledging it. It is then published again, and
    // JetStream's de-duplication keeps the stream free of the copy.
    assert_eq!(
        outbox_sequences(&db).await.last(),
        Some(&2),
        "the undelivered event waits in the outbox"
    );

    nats.restart();
    let app = spawn_app_on(db.clone(), options).await;
    let mut events = app
        .subscribe_from(&list.id, StartAt::StreamSequence(1))
        .await;
    let milk = expect_kind!(events.expect(1).await, ItemAdded);
    let bread = expect_kind!(events.expect(2).await, ItemAdded);
    assert_eq!(milk.item.map(|i| i.name), Some("Milk".to_owned()));
    assert_eq!(bread.item.map(|i| i.name), Some("Bread".to_owned()));

    let mut client = app.client(&ann).await;
    client
        .add_item(add_request(&list.id, "Eggs"))
        .await
        .expect("added after restart");
    let eggs = expect_kind!(events.expect(3).await, ItemAdded);
    assert_eq!(
        eggs.item.map(|i| i.name),
        Some("Eggs".to_owned()),
        "no duplicate came before it"
    );
}
