//! How gateways write to one another: a request or answer is one header line of
//! space-separated words, then the raw body (frames or a POST's records, binary for
//! MessagePack), so nothing is escaped or copied twice.

use std::{sync::Arc, time::Duration};

use bytes::{BufMut, Bytes, BytesMut};
use uuid::Uuid;

use super::Ask;
use crate::{
    hub::HubKind,
    protocol::TransportType,
    session::{AttachError, ClaimRefused, Claimed},
    transport::answer::Answer,
};

/// A request for a connection, as one gateway hands it to another: the hub and user the
/// asking gateway authenticated, and the connection's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Forwarded {
    pub hub: HubKind,
    pub user: Uuid,
    pub token: String,
    pub ask: Ask,
}

/// The words of the header line, and the body after it.
fn split(message: &[u8]) -> Option<(Vec<&str>, Bytes)> {
    let end = message.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&message[..end]).ok()?;
    let body = Bytes::copy_from_slice(&message[end + 1..]);
    Some((line.split(' ').collect(), body))
}

fn join(words: &[&str], body: &[u8]) -> Bytes {
    let line = words.join(" ");
    let mut out = BytesMut::with_capacity(line.len() + 1 + body.len());
    out.put_slice(line.as_bytes());
    out.put_u8(b'\n');
    out.put_slice(body);
    out.freeze()
}

fn hub_named(name: &str) -> Option<HubKind> {
    HubKind::ALL.into_iter().find(|hub| hub.name() == name)
}

fn transport_word(transport: TransportType) -> &'static str {
    match transport {
        TransportType::WebSockets => "ws",
        TransportType::ServerSentEvents => "sse",
        TransportType::LongPolling => "lp",
    }
}

fn transport_named(word: &str) -> Option<TransportType> {
    [
        TransportType::WebSockets,
        TransportType::ServerSentEvents,
        TransportType::LongPolling,
    ]
    .into_iter()
    .find(|&t| transport_word(t) == word)
}

impl Forwarded {
    pub fn encode(&self) -> Bytes {
        let (user, hub) = (self.user.to_string(), self.hub.name());
        let head = [hub, user.as_str(), self.token.as_str()];
        match &self.ask {
            Ask::Poll { max_bytes, wait } => {
                let (max, wait) = (max_bytes.to_string(), wait.as_millis().to_string());
                join(&["poll", head[0], head[1], head[2], &max, &wait], &[])
            }
            Ask::Send(body) => join(&["send", head[0], head[1], head[2]], body),
            Ask::Delete => join(&["delete", head[0], head[1], head[2]], &[]),
            Ask::Claim(transport) => join(
                &[
                    "claim",
                    head[0],
                    head[1],
                    head[2],
                    transport_word(*transport),
                ],
                &[],
            ),
        }
    }

    pub fn decode(message: &[u8]) -> Option<Self> {
        let (words, body) = split(message)?;
        let (verb, hub, user, token, rest) = match words.as_slice() {
            [verb, hub, user, token, rest @ ..] => (*verb, *hub, *user, *token, rest),
            _ => return None,
        };
        let ask = match (verb, rest) {
            ("poll", [max, wait]) => Ask::Poll {
                max_bytes: max.parse().ok()?,
                wait: Duration::from_millis(wait.parse().ok()?),
            },
            ("send", []) => Ask::Send(body),
            ("delete", []) => Ask::Delete,
            ("claim", [transport]) => Ask::Claim(transport_named(transport)?),
            _ => return None,
        };
        Some(Self {
            hub: hub_named(hub)?,
            user: user.parse().ok()?,
            token: token.to_owned(),
            ask,
        })
    }
}

/// The word for each refusal, both ways.
const REFUSALS: [(AttachError, &str); 7] = [
    (AttachError::NotFound, "not-found"),
    (AttachError::OtherTransport, "other-transport"),
    (AttachError::AlreadyActive, "already-active"),
    (AttachError::TooEarly, "too-early"),
    (AttachError::TooManyConnections, "too-many"),
    (AttachError::Busy, "busy"),
    (AttachError::Draining, "draining"),
];

pub(super) fn encode_answer(answer: &Answer) -> Bytes {
    let word = match answer {
        Answer::Polled(body) => return join(&["polled"], body),
        Answer::Refused(error) => {
            let named = REFUSALS.iter().find(|(e, _)| e == error).map(|(_, w)| *w);
            return join(&["refused", named.unwrap_or("not-found")], &[]);
        }
        Answer::PollOver => "poll-over",
        Answer::Sent => "sent",
        Answer::Deleted => "deleted",
        Answer::WebSocketSend => "websocket-send",
        Answer::SendInProgress => "send-in-progress",
        Answer::NotDeletable => "not-deletable",
        Answer::Elsewhere => "elsewhere",
        Answer::TooLargeToForward => "too-large",
        Answer::Unanswered => "unanswered",
    };
    join(&[word], &[])
}

pub(super) fn decode_answer(message: &[u8]) -> Option<Answer> {
    let (words, body) = split(message)?;
    Some(match words.as_slice() {
        ["polled"] => Answer::Polled(body),
        ["refused", word] => {
            Answer::Refused(REFUSALS.iter().find(|(_, w)| w == word).map(|(e, _)| *e)?)
        }
        ["poll-over"] => Answer::PollOver,
        ["sent"] => Answer::Sent,
        ["deleted"] => Answer::Deleted,
        ["websocket-send"] => Answer::WebSocketSend,
        ["send-in-progress"] => Answer::SendInProgress,
        ["not-deletable"] => Answer::NotDeletable,
        ["elsewhere"] => Answer::Elsewhere,
        ["too-large"] => Answer::TooLargeToForward,
        ["unanswered"] => Answer::Unanswered,
        _ => return None,
    })
}

pub(super) fn encode_claim(claim: &Result<Claimed, ClaimRefused>) -> Bytes {
    match claim {
        Ok(claimed) => join(
            &[
                "claimed",
                &claimed.connection_id,
                if claimed.stateful {
                    "stateful"
                } else {
                    "plain"
                },
            ],
            &claimed.early,
        ),
        Err(ClaimRefused::Started) => join(&["started"], &[]),
        Err(ClaimRefused::NotFound) => join(&["not-found"], &[]),
    }
}

pub(super) fn decode_claim(message: &[u8]) -> Option<Result<Claimed, ClaimRefused>> {
    let (words, early) = split(message)?;
    Some(match words.as_slice() {
        ["claimed", id, mode] => Ok(Claimed {
            connection_id: Arc::from(*id),
            stateful: match *mode {
                "stateful" => true,
                "plain" => false,
                _ => return None,
            },
            early,
        }),
        ["started"] => Err(ClaimRefused::Started),
        ["not-found"] => Err(ClaimRefused::NotFound),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::shopping_list;

    #[test]
    fn every_ask_survives_the_trip_binary_bodies_included() {
        for ask in [
            Ask::Poll {
                max_bytes: 65_536,
                wait: Duration::from_millis(10_500),
            },
            Ask::Send(Bytes::from_static(b"\x93\x01\n\x00 two words\n")),
            Ask::Delete,
            Ask::Claim(TransportType::ServerSentEvents),
        ] {
            let forwarded = Forwarded {
                hub: shopping_list::HUB,
                user: Uuid::new_v4(),
                token: "tok-en_1".to_owned(),
                ask,
            };
            assert_eq!(Forwarded::decode(&forwarded.encode()), Some(forwarded));
        }
    }

    #[test]
    fn every_answer_and_claim_survives_the_trip() {
        let mut answers = vec![
            Answer::Polled(Bytes::from_static(b"{}\x1e\n{}\x1e")),
            Answer::PollOver,
            Answer::Sent,
            Answer::Deleted,
            Answer::WebSocketSend,
            Answer::SendInProgress,
            Answer::NotDeletable,
            Answer::Elsewhere,
            Answer::TooLargeToForward,
            Answer::Unanswered,
        ];
        answers.extend(REFUSALS.iter().map(|(error, _)| Answer::Refused(*error)));
        for answer in answers {
            assert_eq!(decode_answer(&encode_answer(&answer)), Some(answer));
        }
        let claims = [
            Ok(Claimed {
                connection_id: Arc::from("abc"),
                stateful: true,
                early: Bytes::from_static(b"{\"protocol\":\"json\"}\x1e"),
            }),
            Err(ClaimRefused::Started),
            Err(ClaimRefused::NotFound),
        ];
        for claim in claims {
            assert_eq!(decode_claim(&encode_claim(&claim)), Some(claim));
        }
    }

    #[test]
    fn garbage_is_refused_not_guessed() {
        for garbage in [
            &b""[..],
            b"poll",
            b"poll shopping-list not-a-uuid tok 1 2\n",
            b"poll shopping-list 00000000-0000-0000-0000-000000000000 tok 1\n",
            b"fly shopping-list 00000000-0000-0000-0000-000000000000 tok\n",
            b"\xff\xfe\n",
        ] {
            assert_eq!(Forwarded::decode(garbage), None, "{garbage:?}");
            assert_eq!(decode_answer(garbage), None);
            assert_eq!(decode_claim(garbage), None);
        }
    }
}
