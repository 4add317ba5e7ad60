//! Request/reply inside one process, for tests of the layers above: the same
//! answers as NATS, no-responder included.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::{no_responder, Incoming, Requests, ServiceName};
use crate::{BusError, BusErrorKind};

/// Who serves which name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Responders(Arc<Mutex<HashMap<ServiceName, mpsc::UnboundedSender<Incoming>>>>);

#[derive(Debug)]
pub(super) struct Reply(oneshot::Sender<Bytes>);

impl Reply {
    pub(super) fn send(self, payload: Bytes) -> Result<(), BusError> {
        // An asker that stopped waiting is no error of the responder's, as on NATS.
        let _ = self.0.send(payload);
        Ok(())
    }
}

impl Responders {
    fn table(&self) -> MutexGuard<'_, HashMap<ServiceName, mpsc::UnboundedSender<Incoming>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn serve(&self, name: &ServiceName) -> Requests {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.table().insert(name.clone(), sender);
        UnboundedReceiverStream::new(receiver).boxed()
    }

    pub(super) async fn request(
        &self,
        name: &ServiceName,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        let (reply, answer) = oneshot::channel();
        let incoming = Incoming {
            payload,
            reply: super::Reply::Memory(Reply(reply)),
        };
        {
            let mut table = self.table();
            let Some(server) = table.get(name) else {
                return Err(no_responder(name));
            };
            if server.send(incoming).is_err() {
                // The server dropped its stream: it serves the name no more.
                table.remove(name);
                return Err(no_responder(name));
            }
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(payload)) => Ok(payload),
            Ok(Err(_)) => Err(BusError::new(
                BusErrorKind::Request,
                format!("{name} dropped the request unanswered"),
            )),
            Err(_) => Err(BusError::new(
                BusErrorKind::Request,
                format!("{name} did not answer within {timeout:?}"),
            )),
        }
    }
}
