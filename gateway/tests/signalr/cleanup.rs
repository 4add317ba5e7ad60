//! A client that goes away without a goodbye (its network dropped) leaves nothing behind on the
//! gateway: no group membership, no bus subscription, no connection task.

use pulse_gateway::node::NodeStats;
use serde_json::json;

use crate::{
    create_list, follow_list,
    helpers::{eventually, TestSuite, User, WAIT},
};

fn stats(groups: usize, members: usize) -> NodeStats {
    NodeStats { groups, members }
}

#[tokio::test]
async fn a_websocket_client_dropped_without_a_close_leaves_no_member_group_or_connection() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut phone = suite.connect(&ann).await;
    let list_id = create_list(&mut phone, "Groceries").await;
    phone.call("JoinList", json!([list_id])).await;
    let mut laptop = suite.connect(&ann).await;
    laptop.call("JoinList", json!([list_id])).await;
    assert_eq!(suite.node_stats(), stats(1, 2));
    assert_eq!(suite.open_connections(), 2);

    // Dropping the client closes its TCP connection: no WebSocket close frame, no SignalR
    // Close. Plain connections (no stateful reconnect) are not kept for a comeback.
    drop(phone);
    eventually("one member left", || {
        suite.node_stats() == stats(1, 1) && suite.open_connections() == 1
    })
    .await;
    drop(laptop);
    eventually("nothing left", || {
        suite.node_stats() == NodeStats::default() && suite.open_connections() == 0
    })
    .await;
    suite.stop().await;
}

#[tokio::test]
async fn a_grpc_subscriber_gone_leaves_no_member_or_group() {
    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list_id = create_list(&mut hub, "Groceries").await;

    let stream = follow_list(&suite, &ann, &list_id).await;
    // The subscription has joined its group by the time the call answers.
    assert_eq!(suite.node_stats(), stats(1, 1));

    drop(stream);
    eventually("nothing left", || {
        suite.node_stats() == NodeStats::default()
    })
    .await;
    suite.stop().await;
}

/// The largest position a client can name once overflowed `after + 1` and killed the session
/// task, leaving its connection and memberships behind for good. It is answered (a reset) on a
/// hub and on a gRPC stream, and both clean up as usual when their clients go.
#[tokio::test]
async fn the_largest_resume_position_is_answered_and_leaves_nothing_behind() {
    use pulse_proto::gateway::v1::{
        follow::Target, subscription_message::Kind, subscriptions_client::SubscriptionsClient,
        Follow, SubscribeRequest,
    };

    let suite = TestSuite::start().await;
    let ann = User::new("Ann");
    let mut hub = suite.connect(&ann).await;
    let list_id = create_list(&mut hub, "Groceries").await;
    hub.call("JoinList", json!([list_id])).await;
    hub.call("AddItem", json!([list_id, {"name": "Milk"}]))
        .await;
    // Received live, so it is retained: the position is compared with it.
    let milk = hub.event("ItemAdded").await;

    let answer = hub
        .call("GetMissedEvents", json!([list_id, u64::MAX]))
        .await;
    assert_eq!(
        (&answer["reset"], &answer["sequence"]),
        (&json!(true), &milk["sequence"])
    );

    let mut request = tonic::Request::new(SubscribeRequest {
        follows: vec![Follow {
            target: Some(Target::ListId(list_id.clone())),
            after_sequence: Some(u64::MAX),
        }],
    });
    let bearer = format!("Bearer {}", suite.token(&ann));
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().expect("header"));
    let mut stream = SubscriptionsClient::connect(format!("http://{}", suite.gateway_grpc))
        .await
        .expect("connect")
        .subscribe(request)
        .await
        .expect("subscribe")
        .into_inner();
    let first = tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("in time")
        .expect("no error")
        .expect("open");
    assert!(matches!(first.kind, Some(Kind::Reset(_))), "{first:?}");
    assert_eq!(suite.node_stats(), stats(1, 2));

    drop(stream);
    drop(hub);
    eventually("nothing left", || {
        suite.node_stats() == NodeStats::default() && suite.open_connections() == 0
    })
    .await;
    suite.stop().await;
}
