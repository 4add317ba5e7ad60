//! The measured scenario: `AddItem` over gRPC, through the database, the
//! outbox relay, JetStream and the gateway, to every member's WebSocket; a
//! witness on the bus splits the latency at JetStream.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{stream, StreamExt};
use pulse_bus::Bus;
use pulse_proto::lists::v1::{
    shopping_lists_client::ShoppingListsClient, AddItemRequest, CreateListRequest, GetListRequest,
    NewItem, ShareListRequest,
};
use pulse_proto::lists::LIST;
use pulse_testkit::TestUser;
use tokio::time::Instant as Deadline;
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

use crate::{
    bus_only::bus_subscriber,
    harness::{collect, drive, Clock, Figures, Plan, Sizes},
    member::{join, member, Socket, SENTINEL},
    suite::Suite,
};

/// Joins in flight at once while setting up.
const SETUP_CONCURRENCY: usize = 64;

type Bearer = MetadataValue<Ascii>;

fn bearer(user: &TestUser) -> Bearer {
    format!("Bearer {}", user.token())
        .parse()
        .expect("a token is ASCII")
}

fn authorized<T>(message: T, bearer: &Bearer) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

/// A list with its members: the owner first, the others editors.
struct List {
    id: String,
    members: Vec<(TestUser, Bearer)>,
}

async fn create_list(channel: Channel, index: usize, members: usize) -> Result<List, String> {
    let mut client = ShoppingListsClient::new(channel);
    let users: Vec<(TestUser, Bearer)> = (0..members)
        .map(|m| {
            let user = TestUser::new(&format!("Member {index}.{m}"));
            let bearer = bearer(&user);
            (user, bearer)
        })
        .collect();
    let owner = &users[0].1;
    let request = CreateListRequest {
        name: format!("Load {index}"),
        description: None,
    };
    let id = client
        .create_list(authorized(request, owner))
        .await
        .map_err(|e| format!("CreateList: {e}"))?
        .into_inner()
        .id;
    for (user, _) in &users[1..] {
        let share = ShareListRequest {
            list_id: id.clone(),
            user_id: user.id.to_string(),
            display_name: Some(user.name.clone()),
            permission: "Editor".into(),
        };
        client
            .share_list(authorized(share, owner))
            .await
            .map_err(|e| format!("ShareList: {e}"))?;
    }
    Ok(List { id, members: users })
}

/// The group sequence the list's snapshot reflects: everything of the set-up
/// (shares, joins) is at or below it.
async fn list_sequence(channel: Channel, list: &List) -> Result<u64, String> {
    let request = GetListRequest {
        list_id: list.id.clone(),
    };
    Ok(ShoppingListsClient::new(channel)
        .get_list(authorized(request, &list.members[0].1))
        .await
        .map_err(|e| format!("GetList: {e}"))?
        .into_inner()
        .sequence)
}

pub(crate) struct EndToEnd {
    pub(crate) figures: Figures,
    /// Send to arrival on JetStream: the database and relay share.
    pub(crate) relayed: Figures,
    pub(crate) setup: Duration,
}

pub(crate) async fn end_to_end(
    suite: &Suite,
    sizes: &Sizes,
    plan: &Plan,
    clock: Clock,
    give_up: Deadline,
) -> Result<EndToEnd, String> {
    let setup = Instant::now();
    let channel = pulse_testkit::connect(suite.lists).await;
    let lists: Vec<List> = stream::iter(0..sizes.lists)
        .map(|index| create_list(channel.clone(), index, sizes.members))
        .buffered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let http = reqwest::Client::new();
    let joins = lists.iter().enumerate().flat_map(|(index, list)| {
        list.members
            .iter()
            .enumerate()
            .map(move |(m, (user, _))| (index, m, user.token(), list.id.clone()))
    });
    let sockets: Vec<(usize, usize, Socket)> = stream::iter(joins)
        .map(|(index, m, token, list_id)| {
            let join = join(http.clone(), suite.gateway, token, list_id);
            async move { join.await.map(|socket| (index, m, socket)) }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let mut after = Vec::with_capacity(lists.len());
    for list in &lists {
        after.push(list_sequence(channel.clone(), list).await?);
    }
    let setup = setup.elapsed();

    let expected: Vec<Arc<Vec<usize>>> = plan.per_list.iter().cloned().map(Arc::new).collect();
    let members: Vec<_> = sockets
        .into_iter()
        .map(|(index, m, socket)| {
            let who = format!("list {index} member {m}");
            tokio::spawn(member(
                socket,
                who,
                after[index],
                expected[index].clone(),
                clock,
                give_up,
            ))
        })
        .collect();

    // A witness on the bus, to split the latency at JetStream: before it the
    // database and the relay, after it the gateway and the WebSockets.
    let witness = Bus::connect(&pulse_testkit::shared_nats_url(), suite.namespace.clone())
        .await
        .map_err(|e| format!("nats: {e}"))?;
    let mut witnesses = Vec::with_capacity(lists.len());
    for ((list, after), expected) in lists.iter().zip(&after).zip(&plan.per_list) {
        let topic = LIST.topic(list.id.parse().map_err(|e| format!("list id: {e}"))?);
        let expected = expected.clone();
        witnesses.push(bus_subscriber(&witness, topic, *after, expected, clock, give_up).await?);
    }

    let mut writers = Vec::with_capacity(sizes.writers);
    for _ in 0..sizes.writers {
        writers.push(ShoppingListsClient::new(
            pulse_testkit::connect(suite.lists).await,
        ));
    }
    let targets: Arc<Vec<(String, Vec<Bearer>)>> = Arc::new(
        lists
            .iter()
            .map(|l| {
                (
                    l.id.clone(),
                    l.members.iter().map(|(_, b)| b.clone()).collect(),
                )
            })
            .collect(),
    );
    let (first_send, last_ack, acks) = drive(plan, writers, clock, {
        let targets = targets.clone();
        move |mut client: ShoppingListsClient<Channel>, index, (list, author), sent| {
            let (list_id, bearers) = &targets[list];
            let request = AddItemRequest {
                list_id: list_id.clone(),
                item: Some(NewItem {
                    name: format!("cmd-{index}"),
                    notes: Some(sent.to_string()),
                    ..Default::default()
                }),
            };
            let request = authorized(request, &bearers[author]);
            async move {
                client
                    .add_item(request)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("AddItem: {e}"))
            }
        }
    })
    .await?;
    let mut client = ShoppingListsClient::new(channel);
    for (list_id, bearers) in targets.iter() {
        let request = AddItemRequest {
            list_id: list_id.clone(),
            item: Some(NewItem {
                name: SENTINEL.into(),
                ..Default::default()
            }),
        };
        client
            .add_item(authorized(request, &bearers[0]))
            .await
            .map_err(|e| format!("AddItem (sentinel): {e}"))?;
    }

    // Each member hands its socket back; they all close together afterwards,
    // so no member leaving (and its presence events) disturbs one still reading.
    let mut sockets = Vec::with_capacity(members.len());
    let mut outcomes = Vec::with_capacity(members.len());
    for task in members {
        let outcome = task.await.map_err(|e| format!("member: {e}"))?;
        outcomes.push(outcome.map(|(arrivals, socket)| {
            sockets.push(socket);
            arrivals
        }));
    }
    let figures = collect(first_send, last_ack, acks, outcomes)?;
    drop(sockets);
    let mut outcomes = Vec::with_capacity(witnesses.len());
    for witness in witnesses {
        outcomes.push(witness.await.map_err(|e| format!("witness: {e}"))?);
    }
    let relayed = collect(first_send, last_ack, Vec::new(), outcomes)?;
    Ok(EndToEnd {
        figures,
        relayed,
        setup,
    })
}
