//! Request/reply over core NATS.

use std::time::Duration;

use async_nats::{client::RequestErrorKind, Subject};
use bytes::Bytes;
use futures::StreamExt;

use super::{no_responder, Incoming, Requests, ServiceName};
use crate::{nats::NatsBus, BusError, BusErrorKind};

#[derive(Debug)]
pub(super) struct Reply {
    client: async_nats::Client,
    subject: Option<Subject>,
}

impl Reply {
    pub(super) async fn send(self, payload: Bytes) -> Result<(), BusError> {
        let Some(subject) = self.subject else {
            // Published without a reply subject: nobody waits for an answer.
            return Ok(());
        };
        self.client
            .publish(subject, payload)
            .await
            .map_err(|e| BusError::new(BusErrorKind::Request, e))
    }
}

impl NatsBus {
    fn service_subject(&self, name: &ServiceName) -> String {
        format!("{}.rpc.{name}", self.namespace().as_str())
    }

    pub(crate) async fn serve(&self, name: &ServiceName) -> Result<Requests, BusError> {
        let client = self.client().clone();
        let subscriber = client
            .subscribe(self.service_subject(name))
            .await
            .map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
        // The server knows of the subscription once it answered the ping that follows it.
        client
            .flush()
            .await
            .map_err(|e| BusError::new(BusErrorKind::Subscribe, e))?;
        Ok(subscriber
            .map(move |message| Incoming {
                payload: message.payload,
                reply: super::Reply::Nats(Reply {
                    client: client.clone(),
                    subject: message.reply,
                }),
            })
            .boxed())
    }

    pub(crate) async fn request(
        &self,
        name: &ServiceName,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        let request = async_nats::Request::new()
            .payload(payload)
            .timeout(Some(timeout));
        match self
            .client()
            .send_request(self.service_subject(name), request)
            .await
        {
            Ok(message) => Ok(message.payload),
            Err(error) if error.kind() == RequestErrorKind::NoResponders => Err(no_responder(name)),
            Err(error) => Err(BusError::new(BusErrorKind::Request, error)),
        }
    }

    pub(crate) fn largest_message(&self) -> usize {
        self.client().server_info().max_payload
    }
}
