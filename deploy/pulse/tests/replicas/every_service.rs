//! Two replicas of each of the four services, each pair on its own
//! database: both replicas of a service serve its commands, one of them
//! relays, and every event is stored once.

use std::net::SocketAddr;

use pulse_proto::{
    coaching::v1::{coaching_client::CoachingClient, NotifyRequest},
    leancoffee::v1::{
        lean_coffee_client::LeanCoffeeClient, AddTopicRequest, CreateSessionRequest, NewTopic,
    },
    tasks::v1::{virtual_keys_client::VirtualKeysClient, CreateVirtualKeyRequest},
};
use pulse_testkit::{connect, Bearer};
use uuid::Uuid;

use crate::helpers::{
    add_item, assert_exactly_once, bearer, bearer_with_roles, create_lists, lists_client,
    within_a_minute, Deployment, MASTER_KEY,
};

/// One command of `service`, the `n`th, through the replica at `addr`.
async fn command(service: &str, addr: SocketAddr, n: usize) {
    let user = Uuid::new_v4();
    match service {
        "lists" => {
            let mut client = lists_client(addr, user).await;
            let list = create_lists(&mut client, 1).await;
            client
                .add_item(add_item(&list[0], &format!("item {n}")))
                .await
                .expect("item added");
        }
        "lean-coffee" => {
            let mut client = LeanCoffeeClient::with_interceptor(connect(addr).await, bearer(user));
            let session = client
                .create_session(CreateSessionRequest {
                    title: format!("session {n}"),
                    ..CreateSessionRequest::default()
                })
                .await
                .expect("session created")
                .into_inner();
            client
                .add_topic(AddTopicRequest {
                    session_id: session.id,
                    topic: Some(NewTopic {
                        title: format!("topic {n}"),
                        description: None,
                    }),
                })
                .await
                .expect("topic added");
        }
        "coaching" => {
            let service_caller = bearer_with_roles(Uuid::new_v4(), vec!["service".to_owned()]);
            CoachingClient::with_interceptor(connect(addr).await, service_caller)
                .notify(NotifyRequest {
                    user_id: user.to_string(),
                    kind: "reminder".to_owned(),
                    title: format!("notification {n}"),
                    body: None,
                })
                .await
                .expect("notified");
        }
        "tasks" => {
            VirtualKeysClient::with_interceptor(connect(addr).await, Bearer::new(Some(MASTER_KEY)))
                .create_virtual_key(CreateVirtualKeyRequest {
                    name: format!("key {n}"),
                    budget: None,
                })
                .await
                .expect("key created");
        }
        other => panic!("no command for {other}"),
    }
}

/// Starts two replicas of `service`, sends commands through each in turn,
/// and checks that one relays and every event is stored once.
async fn two_replicas_serve(service: &str, ready_key: &str) {
    let mut deployment = Deployment::new().await;
    let first = deployment.start(service, ready_key).await;
    let second = deployment.start(service, ready_key).await;
    let leader = deployment.sole_leader(&[first, second]).await;
    for n in 0..6 {
        let replica = if n % 2 == 0 { first } else { second };
        command(service, deployment.replicas[replica].addr(), n).await;
    }
    deployment.outbox_drained().await;
    let events = assert_exactly_once(&deployment.stored().await, &deployment.committed().await);
    assert_eq!(deployment.sole_leader(&[first, second]).await, leader);
    assert!(events > 0, "{service}: the commands made events");
    println!("{service}: 6 commands through 2 replicas, {events} events stored once by one relay");
}

#[tokio::test]
async fn two_lists_replicas_serve_commands() {
    within_a_minute(two_replicas_serve("lists", "lists")).await;
}

#[tokio::test]
async fn two_lean_coffee_replicas_serve_commands() {
    within_a_minute(two_replicas_serve("lean-coffee", "leanCoffee")).await;
}

#[tokio::test]
async fn two_coaching_replicas_serve_commands() {
    within_a_minute(two_replicas_serve("coaching", "coaching")).await;
}

#[tokio::test]
async fn two_tasks_replicas_serve_commands() {
    within_a_minute(two_replicas_serve("tasks", "tasks")).await;
}
