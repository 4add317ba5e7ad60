//! Many users entering and leaving one session at once: the calls arrive
//! together and go to the database together (`pulse_presence`), yet each
//! caller gets its own answer and the participants are right afterwards
//! (issue 12: list presence and session participation are one mechanism).

use std::time::{Duration, Instant};

use futures::StreamExt;
use pulse_proto::leancoffee::v1::event::Kind;
use pulse_proto::leancoffee::v1::lean_coffee_client::LeanCoffeeClient;
use pulse_proto::leancoffee::v1::ParticipationRequest;
use pulse_testkit::{connect, expect_kind, refusal_codes, sorted_ids, TestUser, NOTICE};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{
    active_participants, connection, create_session, snapshot, spawn_app, spawn_app_with,
    AppOptions, Client, TestApp,
};

/// A client per user on one shared connection, as a gateway holds them.
async fn clients(app: &TestApp, users: &[TestUser]) -> Vec<Client> {
    let channel = connect(app.addr()).await;
    users
        .iter()
        .map(|user| LeanCoffeeClient::with_interceptor(channel.clone(), user.bearer()))
        .collect()
}

async fn active_ids(client: &mut Client, session_id: &str) -> Vec<String> {
    let active = active_participants(client, session_id).await;
    let mut ids: Vec<String> = active.into_iter().map(|p| p.user_id).collect();
    ids.sort();
    ids
}

/// Enters arriving together are answered together but each on its own: the
/// crowd gets in, each announced once; a connection id of another user and
/// an unknown session are refused and leave no trace; leaving all at once
/// leaves nobody present, each announced once.
#[tokio::test]
async fn a_crowd_entering_and_leaving_at_once_gets_one_answer_each() {
    let app = spawn_app().await;
    let ann = TestUser::new("Ann");
    let mut facilitator = app.client(&ann).await;
    let session = create_session(&mut facilitator, "Retro").await;
    let mut events = app.subscribe(&session.id).await;
    facilitator
        .enter_session(connection(&session.id, "taken"))
        .await
        .expect("entered");
    expect_kind!(events.expect(NOTICE).await, ParticipantJoined);
    let crowd: Vec<TestUser> = (0..40).map(|i| TestUser::new(&format!("G{i}"))).collect();
    let mallory = TestUser::new("Mallory");

    let mut calls: Vec<(Client, ParticipationRequest)> = clients(&app, &crowd)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, client)| (client, connection(&session.id, &format!("c{i}"))))
        .collect();
    let mut refused = clients(&app, &[mallory.clone(), mallory.clone()]).await;
    let unknown = Uuid::new_v4().to_string();
    calls.push((refused.remove(0), connection(&session.id, "taken")));
    calls.push((refused.remove(0), connection(&unknown, "m1")));
    let answers = futures::future::join_all(
        calls
            .into_iter()
            .map(|(mut client, request)| async move { client.enter_session(request).await }),
    )
    .await;

    let mut expected = vec![None; crowd.len()];
    expected.extend([Some(Code::InvalidArgument), Some(Code::NotFound)]);
    assert_eq!(refusal_codes(&answers), expected);
    for (answer, user) in answers.iter().zip(&crowd) {
        let me = answer.as_ref().expect("admitted").get_ref();
        assert_eq!(
            (me.user_id.as_str(), me.display_name.as_str()),
            (user.id.to_string().as_str(), user.name.as_str())
        );
        assert_eq!((me.role.as_str(), me.is_active), ("Participant", true));
    }
    let joined = events
        .expect_notices(crowd.len(), |event| {
            expect_kind!(event, ParticipantJoined).user_id
        })
        .await;
    assert_eq!(joined, sorted_ids(&crowd), "each guest once, not Mallory");
    let mut everyone = sorted_ids(&crowd);
    everyone.push(ann.id.to_string());
    everyone.sort();
    assert_eq!(active_ids(&mut facilitator, &session.id).await, everyone);
    assert!(
        !snapshot(&mut facilitator, &session.id)
            .await
            .participants
            .iter()
            .any(|p| p.user_id == mallory.id.to_string()),
        "a refused entry leaves no participant behind"
    );

    let left = futures::future::join_all(clients(&app, &crowd).await.into_iter().enumerate().map(
        |(i, mut client)| {
            let request = connection(&session.id, &format!("c{i}"));
            async move { client.exit_session(request).await }
        },
    ))
    .await;

    assert!(
        left.iter().all(Result::is_ok),
        "every exit answered: {left:?}"
    );
    let gone = events
        .expect_notices(crowd.len(), |event| {
            expect_kind!(event, ParticipantLeft).user_id
        })
        .await;
    assert_eq!(gone, sorted_ids(&crowd), "each guest once");
    assert_eq!(
        active_ids(&mut facilitator, &session.id).await,
        [ann.id.to_string()],
        "only the facilitator is left"
    );
    assert_eq!(snapshot(&mut facilitator, &session.id).await.sequence, 0);
}

const CONNECTIONS: usize = 10_000;
/// Calls in flight at once, as a gateway has them when 10,000 clients join.
const IN_FLIGHT: usize = 1_000;

/// The 10,000-user join and leave of one session, measured through the real
/// service and PostgreSQL. Ignored by default: a measurement, run with
/// `cargo test -p pulse-lean-coffee --test api ten_thousand -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for issue 12's figures, not a check; run explicitly"]
async fn ten_thousand_users_enter_and_leave_one_session() {
    // Nobody may be swept while the crowd is still entering.
    let app = spawn_app_with(AppOptions {
        participant_timeout: Duration::from_secs(600),
        ..AppOptions::default()
    })
    .await;
    let mut facilitator = app.client(&TestUser::new("Ann")).await;
    let session = create_session(&mut facilitator, "Crowd").await;
    let users: Vec<TestUser> = (0..CONNECTIONS)
        .map(|i| TestUser::new(&format!("Guest {i}")))
        .collect();
    let clients = clients(&app, &users).await;
    let pool = sqlx::PgPool::connect(&app.database_url())
        .await
        .expect("database");

    for exit in [false, true] {
        let before = transactions(&pool).await;
        let started = Instant::now();
        let answers: Vec<_> = futures::stream::iter(clients.iter().enumerate())
            .map(|(i, client)| {
                let mut client = client.clone();
                let request = connection(&session.id, &format!("c{i}"));
                async move {
                    if exit {
                        client.exit_session(request).await.map(|_| ())
                    } else {
                        client.enter_session(request).await.map(|_| ())
                    }
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let took: Duration = started.elapsed();
        let failed = answers.iter().filter(|answer| answer.is_err()).count();
        let what = if exit { "left" } else { "entered" };
        println!(
            "{CONNECTIONS} users {what} one session in {took:?}: {failed} failed, at most {} write transactions",
            transactions(&pool).await - before - 1
        );
        assert_eq!(failed, 0);
        let expected = if exit { 0 } else { CONNECTIONS };
        assert_eq!(
            active_ids(&mut facilitator, &session.id).await.len(),
            expected
        );
    }
}

/// Write transactions begun in the whole cluster so far (others' tests on
/// the shared machine count too, so a delta is an upper bound).
async fn transactions(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT txid_current()")
        .fetch_one(pool)
        .await
        .expect("transaction id")
}
