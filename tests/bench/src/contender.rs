//! What differs between the two servers in the race: how a client reaches
//! it, what a group is, and how a message is produced — a real `AddItem`
//! through the lists service (PostgreSQL, outbox, NATS, gateway) for Pulse,
//! a `broadcast` event from a producer socket for the peer. Everything else
//! (connecting, joining, counting, timing) is the same code for both.

use std::sync::Arc;

use anyhow::{Context, Result};
use pulse_proto::lists::v1::{
    shopping_lists_client::ShoppingListsClient, AddItemRequest, CreateListRequest, NewItem,
};
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

use crate::{
    client::{Client, Tally, Target, Transport, Wire},
    marker,
    servers::{Peer, PulseSuite},
};

/// Frame bytes of one message when Pulse has not been measured first: the
/// size of an `ItemAdded` invocation as the gateway sends it.
pub const DEFAULT_FRAME_BYTES: usize = 670;
/// `42["message","` + `"]`: what Socket.IO adds around the payload.
const SOCKET_IO_FRAME_OVERHEAD: usize = 16;

pub type Bearer = MetadataValue<Ascii>;

pub enum Contender<'a> {
    Pulse {
        suite: &'a PulseSuite,
        token: String,
        bearer: Bearer,
        lists: Box<ShoppingListsClient<Channel>>,
    },
    Peer {
        peer: &'a Peer,
        producer: Client,
        /// Bytes of each `message` frame, to match Pulse's.
        frame_bytes: usize,
    },
}

impl<'a> Contender<'a> {
    /// Pulse, all clients as one user (the owner of every list: the tabs of
    /// one person), so joins measure the group, not `UserJoined` storms.
    pub async fn pulse(suite: &'a PulseSuite) -> Result<Self> {
        let (_, token) = suite.mint("Bench")?;
        let bearer = format!("Bearer {token}").parse().context("bearer")?;
        Ok(Self::Pulse {
            suite,
            bearer,
            token,
            lists: Box::new(ShoppingListsClient::new(grpc_channel(suite).await?)),
        })
    }

    pub async fn peer(peer: &'a Peer, http: &reqwest::Client, frame_bytes: usize) -> Result<Self> {
        let producer = Client::connect(
            &Target::Peer { addr: peer.addr },
            http,
            Arc::new(Tally::default()),
        )
        .await
        .context("producer socket")?;
        Ok(Self::Peer {
            peer,
            producer,
            frame_bytes,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Pulse { .. } => "Pulse",
            Self::Peer { .. } => "socketioxide",
        }
    }

    /// Where clients connect; Pulse's speak `wire` over `transport` (the
    /// peer has one protocol and one transport).
    pub fn target(&self, transport: Transport, wire: Wire) -> Target {
        match self {
            Self::Pulse { suite, token, .. } => Target::Pulse {
                addr: suite.gateway,
                token: token.clone(),
                wire,
                transport,
            },
            Self::Peer { peer, .. } => Target::Peer { addr: peer.addr },
        }
    }

    pub fn server(&self) -> &crate::servers::Server {
        match self {
            Self::Pulse { suite, .. } => &suite.server,
            Self::Peer { peer, .. } => &peer.server,
        }
    }

    /// A new group clients can join: a list, or a room name.
    pub async fn group(&mut self, name: &str) -> Result<String> {
        match self {
            Self::Pulse { lists, bearer, .. } => {
                let request = authorized(
                    CreateListRequest {
                        name: name.to_owned(),
                        description: None,
                    },
                    bearer,
                );
                Ok(lists
                    .create_list(request)
                    .await
                    .context("CreateList")?
                    .into_inner()
                    .id)
            }
            Self::Peer { .. } => Ok(name.to_owned()),
        }
    }

    /// Produces message `index` of `run` to `group`; for Pulse the returned
    /// future is the gRPC call (so callers can keep several in flight).
    pub async fn produce(&self, group: &str, run: u32, index: u32) -> Result<Produced> {
        match self {
            Self::Pulse { lists, bearer, .. } => {
                let request = add_item(group, run, index, bearer);
                let mut lists = (**lists).clone();
                Ok(Produced::Call(tokio::spawn(async move {
                    lists.add_item(request).await.map(|_| ()).context("AddItem")
                })))
            }
            Self::Peer {
                producer,
                frame_bytes,
                ..
            } => {
                let stamp = marker::stamp(run, index);
                let payload_bytes = frame_bytes.saturating_sub(SOCKET_IO_FRAME_OVERHEAD);
                let padding = "x".repeat(payload_bytes.saturating_sub(stamp.len() + 1));
                producer
                    .send(format!(
                        "42[\"broadcast\",{{\"room\":\"{group}\",\"payload\":\"{stamp} {padding}\"}}]"
                    ))
                    .await?;
                Ok(Produced::Sent)
            }
        }
    }
}

/// A produced message: sent already, or a command call still running.
pub enum Produced {
    Sent,
    Call(tokio::task::JoinHandle<Result<()>>),
}

pub async fn grpc_channel(suite: &PulseSuite) -> Result<Channel> {
    Channel::from_shared(format!("http://{}", suite.lists))
        .context("lists address")?
        .connect()
        .await
        .context("connecting to the lists service")
}

pub fn authorized<T>(message: T, bearer: &Bearer) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

/// An `AddItem` whose name carries the stamp (taken now, just before sending).
pub fn add_item(
    list_id: &str,
    run: u32,
    index: u32,
    bearer: &Bearer,
) -> tonic::Request<AddItemRequest> {
    authorized(
        AddItemRequest {
            list_id: list_id.to_owned(),
            item: Some(NewItem {
                name: marker::stamp(run, index),
                ..Default::default()
            }),
        },
        bearer,
    )
}
