//! A gateway started on its own, before any service (a distributed
//! deployment rolled out gateway first): it creates every event stream
//! itself, so the groups its clients join at connect (their own notification
//! channels) are subscribed at once instead of refused until the relay of
//! each service has led once.

use futures::StreamExt;

use crate::{
    helpers::{within_a_minute, Deployment},
    replica::Replica,
};

#[tokio::test]
async fn a_gateway_started_before_the_services_creates_every_event_stream() {
    within_a_minute(async {
        let deployment = Deployment::new().await;
        let args: Vec<String> = [
            ("--nats-url", deployment.nats.url()),
            ("--bus-namespace", "gateway-first".to_owned()),
            ("--jwt-secret", "gateway-first-test-secret".to_owned()),
            ("--gateway-addr", "127.0.0.1:0".to_owned()),
            ("--gateway-grpc-addr", "127.0.0.1:0".to_owned()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect();
        let _gateway = Replica::start("gateway", "gateway", "gatewayGrpc", &args).await;

        let client = async_nats::connect(deployment.nats.url())
            .await
            .expect("nats");
        let names: Vec<String> = async_nats::jetstream::new(client)
            .stream_names()
            .map(|name| name.expect("stream name"))
            .collect()
            .await;
        assert_eq!(
            names.len(),
            pulse_proto::GROUP_KINDS.iter().count(),
            "{names:?}"
        );
        assert!(
            names.iter().all(|name| name.starts_with("GATEWAY-FIRST_")),
            "{names:?}"
        );
    })
    .await;
}
