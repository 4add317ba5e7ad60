use pulse_auth::Identity;

use super::*;
use crate::hub::shopping_list;

fn identity() -> Identity {
    Identity {
        user_id: Uuid::new_v4(),
        name: "Ann".into(),
        roles: vec![],
        expires_at: i64::MAX,
    }
}

fn principal(who: &Identity, kind: PrincipalKind) -> Principal {
    Principal {
        identity: who.clone(),
        kind,
    }
}

const HUB: HubKind = shopping_list::HUB;

fn negotiated(registry: &Registry, who: &Identity, stateful: bool) -> String {
    registry
        .negotiate(
            HUB,
            &principal(who, PrincipalKind::User),
            NegotiateVersion::V1,
            stateful,
        )
        .expect("negotiated")
        .token
}

/// Attaches, starting a link with no connection behind it when it is the first request.
fn attach(
    registry: &Registry,
    token: &str,
    who: &Identity,
    transport: TransportType,
) -> Result<Attachment, AttachError> {
    registry.attach(token, HUB, who.user_id, transport, |starting| {
        Link::unconnected(starting.stateful)
    })
}

#[test]
fn a_websocket_attaches_once_and_a_second_one_conflicts() {
    let registry = Registry::default();
    let ann = identity();
    let token = negotiated(&registry, &ann, false);
    assert!(matches!(
        attach(&registry, &token, &ann, TransportType::WebSockets),
        Ok(Attachment::Started(_))
    ));
    assert_eq!(
        attach(&registry, &token, &ann, TransportType::WebSockets).map(|_| ()),
        Err(AttachError::AlreadyActive)
    );
    assert_eq!(
        attach(&registry, &token, &ann, TransportType::ServerSentEvents).map(|_| ()),
        Err(AttachError::OtherTransport)
    );
}

#[test]
fn long_polls_after_the_first_find_the_same_connection() {
    let registry = Registry::default();
    let ann = identity();
    let token = negotiated(&registry, &ann, true);
    let Ok(Attachment::Started(first)) =
        attach(&registry, &token, &ann, TransportType::LongPolling)
    else {
        panic!("the first poll starts the connection");
    };
    assert!(
        !first.is_stateful(),
        "stateful reconnect is for WebSockets only"
    );
    assert!(matches!(
        attach(&registry, &token, &ann, TransportType::LongPolling),
        Ok(Attachment::Poll(_))
    ));
    assert_eq!(
        attach(&registry, &token, &ann, TransportType::WebSockets).map(|_| ()),
        Err(AttachError::OtherTransport)
    );
}

#[test]
fn a_stateful_websocket_may_be_replaced() {
    let registry = Registry::default();
    let ann = identity();
    let token = negotiated(&registry, &ann, true);
    attach(&registry, &token, &ann, TransportType::WebSockets).expect("starts");
    assert!(matches!(
        attach(&registry, &token, &ann, TransportType::WebSockets),
        Ok(Attachment::Reattach(_))
    ));
}

#[test]
fn another_user_or_an_unknown_token_is_not_found() {
    let registry = Registry::default();
    let token = negotiated(&registry, &identity(), false);
    let other = identity();
    assert_eq!(
        attach(&registry, &token, &other, TransportType::WebSockets).map(|_| ()),
        Err(AttachError::NotFound)
    );
    assert_eq!(
        attach(&registry, "nope", &other, TransportType::WebSockets).map(|_| ()),
        Err(AttachError::NotFound)
    );
    assert_eq!(
        registry.find(&token, HUB, other.user_id).map(|_| ()),
        Err(AttachError::NotFound)
    );
}

#[test]
fn unused_negotiations_and_idle_connections_are_reaped_busy_ones_kept() {
    let registry = Registry::default();
    let ann = identity();
    let unused = negotiated(&registry, &ann, false);
    let busy = negotiated(&registry, &ann, false);
    let idle = negotiated(&registry, &ann, false);
    attach(&registry, &busy, &ann, TransportType::WebSockets).expect("starts");
    let Ok(Attachment::Started(idle_link)) =
        attach(&registry, &idle, &ann, TransportType::LongPolling)
    else {
        panic!("starts");
    };
    let turn = idle_link.take_turn();
    idle_link.release_turn(&turn);

    assert_eq!(registry.reap(Duration::ZERO), 2);
    assert!(idle_link.is_terminated());
    assert_eq!(
        attach(&registry, &unused, &ann, TransportType::WebSockets).map(|_| ()),
        Err(AttachError::NotFound)
    );
    assert_eq!(registry.len(), 1);
    assert!(registry.find(&busy, HUB, ann.user_id).is_ok());
}

#[test]
fn a_newer_turn_keeps_the_connection_busy_when_the_older_one_ends() {
    let link = Link::unconnected(true);
    let old = link.take_turn();
    let new = link.take_turn();
    assert!(old.superseded.is_raised());
    link.release_turn(&old);
    assert_eq!(link.idle_for(), None);
    link.release_turn(&new);
    assert!(link.idle_for().is_some());
}

fn limited(limits: RegistryLimits) -> Registry {
    Registry::new(limits)
}

fn negotiate_as(registry: &Registry, who: &Principal) -> Result<String, AttachError> {
    registry
        .negotiate(HUB, who, NegotiateVersion::V1, false)
        .map(|ids| ids.token)
}

#[test]
fn a_user_over_the_connection_limit_is_refused_until_one_ends() {
    let registry = limited(RegistryLimits {
        connections_per_user: 2,
        connections_per_key: 3,
        ..RegistryLimits::default()
    });
    let ann = principal(&identity(), PrincipalKind::User);
    let first = negotiate_as(&registry, &ann).expect("first");
    let second = negotiate_as(&registry, &ann).expect("second");
    attach(&registry, &second, &ann.identity, TransportType::WebSockets).expect("starts");
    assert_eq!(
        negotiate_as(&registry, &ann),
        Err(AttachError::TooManyConnections)
    );
    let refused = registry.start_unnegotiated(HUB, &ann, |s| Link::unconnected(s.stateful));
    assert_eq!(refused.map(|_| ()), Err(AttachError::TooManyConnections));
    assert_eq!(registry.len(), 2, "a refusal holds nothing");
    // Someone else is not affected; a virtual key has its own, larger limit.
    negotiate_as(&registry, &principal(&identity(), PrincipalKind::User)).expect("Bob");
    let key = principal(&identity(), PrincipalKind::VirtualKey);
    for _ in 0..3 {
        negotiate_as(&registry, &key).expect("key");
    }
    assert_eq!(
        negotiate_as(&registry, &key),
        Err(AttachError::TooManyConnections)
    );
    registry.remove(&first);
    negotiate_as(&registry, &ann).expect("room again after one ended");
}

#[test]
fn negotiations_waiting_for_a_transport_are_capped_in_number() {
    let registry = limited(RegistryLimits {
        pending_connections: 2,
        ..RegistryLimits::default()
    });
    let ann = identity();
    let first = negotiated(&registry, &ann, false);
    negotiated(&registry, &ann, false);
    let who = principal(&ann, PrincipalKind::User);
    assert_eq!(negotiate_as(&registry, &who), Err(AttachError::Busy));
    attach(&registry, &first, &ann, TransportType::WebSockets).expect("starts");
    negotiate_as(&registry, &who).expect("a started one no longer counts as pending");
    assert_eq!(negotiate_as(&registry, &who), Err(AttachError::Busy));
    assert_eq!(registry.reap(Duration::ZERO), 2);
    negotiate_as(&registry, &who).expect("reaped ones no longer count");
}

#[test]
fn bytes_held_for_negotiations_are_capped_in_all() {
    let registry = limited(RegistryLimits {
        pending_bytes: 100,
        ..RegistryLimits::default()
    });
    let ann = identity();
    let (first, second) = (
        negotiated(&registry, &ann, false),
        negotiated(&registry, &ann, false),
    );
    let hold = |token: &str, bytes: usize| {
        registry
            .hold(token, HUB, ann.user_id, &vec![b'x'; bytes], 1000)
            .map(|_| ())
    };
    hold(&first, 60).expect("held");
    assert_eq!(hold(&second, 60), Err(AttachError::Busy));
    hold(&second, 40).expect("held up to the cap");
    let who = principal(&ann, PrincipalKind::User);
    assert_eq!(
        negotiate_as(&registry, &who),
        Err(AttachError::Busy),
        "no new negotiation while the cap is reached"
    );
    // Starting a connection hands its bytes to it: they no longer count.
    attach(&registry, &first, &ann, TransportType::LongPolling).expect("starts");
    negotiate_as(&registry, &who).expect("room again");
    registry.remove(&second);
    hold(&negotiated(&registry, &ann, false), 100).expect("all released");
}

#[test]
fn a_negotiated_connection_is_claimed_once_with_what_was_sent_for_it_and_started_where_claimed() {
    let (issuing, adopting) = (Registry::default(), Registry::default());
    let ann = identity();
    let token = negotiated(&issuing, &ann, true);
    assert_eq!(
        issuing.issuer().as_str(),
        &token[..11],
        "the token names its issuer"
    );
    assert_eq!(
        issuing
            .hold(&token, HUB, ann.user_id, b"{}\x1e", 1024)
            .map(|l| l.is_some()),
        Ok(false)
    );
    assert_eq!(
        issuing.claim(&token, HUB, identity().user_id, || {}),
        Err(ClaimRefused::NotFound),
        "another user cannot claim it"
    );

    let mut handed_over = false;
    let claimed = issuing
        .claim(&token, HUB, ann.user_id, || handed_over = true)
        .expect("claimed");
    assert!(handed_over);
    assert_eq!(&claimed.early[..], b"{}\x1e");
    assert!(claimed.stateful);
    assert_eq!(issuing.len(), 0, "the issuer holds it no more");
    assert_eq!(
        issuing.claim(&token, HUB, ann.user_id, || {}),
        Err(ClaimRefused::NotFound)
    );

    let mut early = None;
    let link = adopting
        .adopt(
            &token,
            HUB,
            &principal(&ann, PrincipalKind::User),
            claimed,
            TransportType::LongPolling,
            |s| {
                early = Some(s.early.clone());
                assert!(!s.stateful, "stateful reconnect is for WebSockets only");
                Link::unconnected(s.stateful)
            },
        )
        .expect("adopted");
    assert_eq!(early.as_deref(), Some(&b"{}\x1e"[..]));
    assert!(matches!(
        adopting.find(&token, HUB, ann.user_id),
        Ok(Found::Running(TransportType::LongPolling, _))
    ));
    assert!(matches!(
        attach(&adopting, &token, &ann, TransportType::LongPolling),
        Ok(Attachment::Poll(_))
    ));
    drop(link);
}

#[test]
fn a_started_connection_cannot_be_claimed() {
    let registry = Registry::default();
    let ann = identity();
    let token = negotiated(&registry, &ann, false);
    attach(&registry, &token, &ann, TransportType::ServerSentEvents).expect("started");
    assert_eq!(
        registry.claim(&token, HUB, ann.user_id, || {}),
        Err(ClaimRefused::Started)
    );
    assert!(registry.find(&token, HUB, ann.user_id).is_ok());
}
