use super::*;

fn identity() -> Identity {
    Identity {
        user_id: Uuid::new_v4(),
        name: "Ann".into(),
        roles: vec![],
        expires_at: i64::MAX,
    }
}

const HUB: HubKind = HubKind::ShoppingList;

fn negotiated(registry: &Registry, who: &Identity, stateful: bool) -> String {
    registry
        .negotiate(HUB, who, NegotiateVersion::V1, stateful)
        .token
}

/// Attaches, starting a link with no connection behind it when it is the first request.
fn attach(
    registry: &Registry,
    token: &str,
    who: &Identity,
    transport: TransportType,
) -> Result<Attachment, AttachError> {
    registry.attach(token, HUB, who, transport, |starting| {
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
        registry.find(&token, HUB, &other).map(|_| ()),
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
    assert!(registry.find(&busy, HUB, &ann).is_ok());
}

#[test]
fn a_newer_turn_keeps_the_connection_busy_when_the_older_one_ends() {
    let link = Link::unconnected(true);
    let old = link.take_turn();
    let new = link.take_turn();
    assert!(old.superseded.is_cancelled());
    link.release_turn(&old);
    assert_eq!(link.idle_for(), None);
    link.release_turn(&new);
    assert!(link.idle_for().is_some());
}
