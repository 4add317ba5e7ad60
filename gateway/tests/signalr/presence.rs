//! Issue 11 item 5: presence notices (`UserJoined`, `UserLeft`) are outside a list's numbered
//! stream, so the sequence every client sees — live and through `GetMissedEvents` — has no
//! hole, whoever joins or leaves; the others still get the notices live, with `sequence: null`.

use serde_json::{json, Value};

use crate::{create_list, helpers::TestSuite, helpers::User};

fn sequence(payload: &Value) -> u64 {
    payload["sequence"].as_u64().expect("a numbered event")
}

#[tokio::test]
async fn sequences_stay_gap_free_live_and_in_a_catch_up_while_others_join_and_leave() {
    let suite = TestSuite::start().await;
    let (ann, bob) = (User::new("Ann"), User::new("Bob"));
    let mut ann1 = suite.connect(&ann).await;
    let list_id = create_list(&mut ann1, "Groceries").await;
    let share = json!([list_id, {"userId": bob.id.to_string(), "displayName": bob.name, "permission": "Editor"}]);
    ann1.call("ShareList", share).await;
    ann1.call("JoinList", json!([list_id])).await;
    let mut bob1 = suite.connect(&bob).await;
    bob1.call("JoinList", json!([list_id])).await;
    let start = sequence(&bob1.call("GetList", json!([list_id])).await);

    let joined = ann1.event("UserJoined").await;
    assert_eq!(joined["user"]["id"], bob.id.to_string());
    assert_eq!(joined["sequence"], Value::Null, "a notice takes no number");

    // Bob's live numbers follow his snapshot one by one, with his own
    // presence and Ann's in between.
    bob1.call("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    assert_eq!(sequence(&bob1.event("ItemAdded").await), start + 1);
    let mut bob2 = suite.connect(&bob).await;
    bob2.call("JoinList", json!([list_id])).await;
    bob1.call("LeaveList", json!([list_id])).await;
    ann1.call("LeaveList", json!([list_id])).await;
    let left = bob2.event("UserLeft").await;
    assert_eq!(
        (&left["userId"], &left["sequence"]),
        (&json!(ann.id.to_string()), &Value::Null)
    );
    bob2.call("AddItem", json!([list_id, {"name": "Tea"}]))
        .await;
    assert_eq!(sequence(&bob2.event("ItemAdded").await), start + 2);
    bob2.call("LeaveList", json!([list_id])).await;
    ann1.call("JoinList", json!([list_id])).await;
    bob1.call("JoinList", json!([list_id])).await;
    assert_eq!(ann1.event("UserJoined").await["sequence"], Value::Null);
    ann1.call("AddItem", json!([list_id, {"name": "Eggs"}]))
        .await;
    assert_eq!(sequence(&bob1.event("ItemAdded").await), start + 3);

    // A catch-up from the very start lists every number once, in order, and
    // no notice.
    let caught_up = bob1.call("GetMissedEvents", json!([list_id, 0])).await;
    assert_eq!(caught_up["reset"], json!(false), "{caught_up}");
    let events = caught_up["events"].as_array().expect("events");
    let numbers: Vec<u64> = events.iter().map(sequence).collect();
    assert_eq!(numbers, (1..=start + 3).collect::<Vec<_>>(), "{caught_up}");
    assert!(events
        .iter()
        .all(|event| event["event"] != "UserJoined" && event["event"] != "UserLeft"));
    assert_eq!(sequence(&caught_up), start + 3);
    suite.stop().await;
}
