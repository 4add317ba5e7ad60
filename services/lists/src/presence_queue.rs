//! Enters, exits and keep-alives through `pulse_presence` queues: the calls
//! that arrive together go to the database together (see that crate), each
//! batch through the store's set-based `*_lists` / `touch_presences`, a
//! refused batch one call at a time through the single-call methods.

use std::sync::Arc;

use pulse_presence::{BoxFuture, Calls, Coalescer, Outcomes};

use crate::domain::ActiveUser;
use crate::store::{Entering, Exiting, Store, Touching};
use crate::ListsError;

/// The three queues; cheap to clone. Their workers end with the last clone.
#[derive(Debug, Clone)]
pub(crate) struct PresenceQueue {
    enters: Coalescer<Enters>,
    exits: Coalescer<Exits>,
    touches: Coalescer<Touches>,
}

impl PresenceQueue {
    pub(crate) fn start(store: Store) -> Self {
        Self {
            enters: Coalescer::start(Enters(store.clone())),
            exits: Coalescer::start(Exits(store.clone())),
            touches: Coalescer::start(Touches(store)),
        }
    }

    pub(crate) async fn enter(&self, call: Entering) -> Result<Vec<ActiveUser>, ListsError> {
        self.enters.call(call).await
    }

    pub(crate) async fn touch(&self, call: Touching) -> Result<(), ListsError> {
        self.touches.call(call).await
    }

    pub(crate) async fn exit(&self, call: Exiting) -> Result<(), ListsError> {
        self.exits.call(call).await
    }
}

/// The worker is gone: the service is stopping.
fn stopped() -> ListsError {
    ListsError::Storage(sqlx::Error::PoolClosed.into())
}

struct Enters(Store);

impl Calls for Enters {
    type Call = Entering;
    type Output = Vec<ActiveUser>;
    type Error = ListsError;

    fn together(&self, calls: Arc<Vec<Entering>>) -> BoxFuture<Outcomes<Self>> {
        let store = self.0.clone();
        Box::pin(async move { store.enter_lists(&calls).await })
    }

    fn alone(
        &self,
        calls: Arc<Vec<Entering>>,
        index: usize,
    ) -> BoxFuture<Result<Vec<ActiveUser>, ListsError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let call = &calls[index];
            let actor = store
                .remember_user(call.actor.id, &call.actor.display_name)
                .await?;
            store
                .enter_list(&actor, call.list_id, call.connection.clone())
                .await
        })
    }

    fn stopped(&self) -> ListsError {
        stopped()
    }
}

struct Exits(Store);

impl Calls for Exits {
    type Call = Exiting;
    type Output = ();
    type Error = ListsError;

    fn together(&self, calls: Arc<Vec<Exiting>>) -> BoxFuture<Outcomes<Self>> {
        let store = self.0.clone();
        Box::pin(async move { store.exit_lists(&calls).await })
    }

    fn alone(&self, calls: Arc<Vec<Exiting>>, index: usize) -> BoxFuture<Result<(), ListsError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let call = &calls[index];
            store
                .exit_list(&call.actor, call.list_id, &call.connection_id)
                .await
        })
    }

    fn stopped(&self) -> ListsError {
        stopped()
    }
}

struct Touches(Store);

impl Calls for Touches {
    type Call = Touching;
    type Output = ();
    type Error = ListsError;

    fn together(&self, calls: Arc<Vec<Touching>>) -> BoxFuture<Outcomes<Self>> {
        let store = self.0.clone();
        Box::pin(async move { store.touch_presences(&calls).await })
    }

    fn alone(&self, calls: Arc<Vec<Touching>>, index: usize) -> BoxFuture<Result<(), ListsError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let call = &calls[index];
            store
                .touch_presence(call.user_id, call.list_id, &call.connection_id)
                .await
        })
    }

    fn stopped(&self) -> ListsError {
        stopped()
    }
}
