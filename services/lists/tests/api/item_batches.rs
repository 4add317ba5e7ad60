//! `AddItem`s that arrive together go to the database in one batch: each
//! caller still gets the outcome it would have had alone, and positions and
//! event numbers stay dense and in step.

use std::collections::{BTreeMap, BTreeSet};

use pulse_proto::lists::v1::event::Kind;
use pulse_testkit::{expect_kind, TestUser};
use tonic::Code;

use crate::collaborators::share_request;
use crate::helpers::{create_list, spawn_app, Client};
use crate::items::add_request;

/// Adds per (caller, list) in the crowd below.
const ADDS: usize = 15;

#[tokio::test]
async fn concurrent_adds_by_many_callers_each_get_their_own_outcome() {
    let app = spawn_app().await;
    let (ann, bob, cid, dan) = (
        TestUser::new("Ann"),
        TestUser::new("Bob"),
        TestUser::new("Cid"),
        TestUser::new("Dan"),
    );
    let mut owner = app.client(&ann).await;
    let shared = create_list(&mut owner, "Shared").await;
    let own = create_list(&mut owner, "Ann's own").await;
    // Subscribed before anything is published to either list, so every
    // event is seen, whenever the relay publishes it.
    let mut shared_events = app.subscribe(&shared.id).await;
    let mut own_events = app.subscribe(&own.id).await;
    for (sequence, (user, permission)) in (1..).zip([(&bob, "Editor"), (&dan, "Viewer")]) {
        owner
            .share_list(share_request(&shared.id, user, permission))
            .await
            .expect("shared");
        expect_kind!(shared_events.expect(sequence).await, CollaboratorAdded);
    }

    // Everyone's calls at once: Ann and Bob may add to the shared list, Ann
    // to her own; Cid has no access and Dan only reads.
    let callers = [
        ("ann", app.client(&ann).await, &shared.id),
        ("bob", app.client(&bob).await, &shared.id),
        ("ann-own", app.client(&ann).await, &own.id),
        ("cid", app.client(&cid).await, &shared.id),
        ("dan", app.client(&dan).await, &shared.id),
    ];
    let mut calls = Vec::new();
    for (who, client, list_id) in &callers {
        for n in 0..ADDS {
            let (who, mut client, request): (&str, Client, _) = (
                who,
                client.clone(),
                add_request(list_id, &format!("{who} {n}")),
            );
            calls.push(tokio::spawn(async move {
                (who, client.add_item(request).await)
            }));
        }
    }
    let mut positions: BTreeMap<&str, BTreeSet<i32>> = BTreeMap::new();
    for call in calls {
        let (who, outcome) = call.await.expect("call task");
        match (who, outcome) {
            ("cid" | "dan", Err(status)) => {
                assert_eq!(status.code(), Code::PermissionDenied, "{who}: {status:?}")
            }
            ("cid" | "dan", Ok(item)) => panic!("{who} added {item:?}"),
            (_, Err(status)) => panic!("{who} refused: {status:?}"),
            (_, Ok(item)) => {
                let list = if who == "ann-own" { "own" } else { "shared" };
                assert!(
                    positions
                        .entry(list)
                        .or_default()
                        .insert(item.get_ref().position),
                    "{who} got a position twice: {item:?}"
                );
            }
        }
    }
    let dense = |n: usize| (0..i32::try_from(n).expect("small")).collect::<BTreeSet<_>>();
    assert_eq!(positions["shared"], dense(2 * ADDS));
    assert_eq!(positions["own"], dense(ADDS));

    // The shares were the shared list's events 1 and 2; the adds follow
    // with no gap, in the order of their positions.
    for (events, first, count) in [
        (&mut shared_events, 3, 2 * ADDS),
        (&mut own_events, 1, ADDS),
    ] {
        for (position, sequence) in (first..).take(count).enumerate() {
            let added = expect_kind!(events.expect(sequence).await, ItemAdded);
            let item = added.item.expect("item");
            assert_eq!(
                item.position,
                i32::try_from(position).expect("small"),
                "event {sequence}"
            );
        }
    }
}
