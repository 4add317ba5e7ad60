//! List presence through the shared `pulse_presence` queues: the calls that
//! arrive together go to the database together (see that crate), each batch
//! through the store's set-based `*_lists` / `touch_presences`, a refused
//! batch one call at a time through the single-call methods.

use std::time::Duration;

use pulse_presence::{Batch, Presence};

use crate::domain::ActiveUser;
use crate::store::{Entering, Exiting, Store, Touching};
use crate::ListsError;

/// The enter, exit and keep-alive queues; cheap to clone.
pub(crate) type PresenceQueue = pulse_presence::PresenceQueue<Store>;

impl Presence for Store {
    type Enter = Entering;
    type Entered = Vec<ActiveUser>;
    type Exit = Exiting;
    type Touch = Touching;
    type Error = ListsError;

    async fn enter_all(&self, calls: &[Entering]) -> Batch<Vec<ActiveUser>, ListsError> {
        self.enter_lists(calls).await
    }

    /// Remembers the caller's name first, as the batch does for all of them.
    async fn enter_one(&self, call: &Entering) -> Result<Vec<ActiveUser>, ListsError> {
        let actor = self
            .remember_user(call.actor.id, &call.actor.display_name)
            .await?;
        self.enter_list(&actor, call.list_id, call.connection.clone())
            .await
    }

    async fn exit_all(&self, calls: &[Exiting]) -> Batch<(), ListsError> {
        self.exit_lists(calls).await
    }

    async fn exit_one(&self, call: &Exiting) -> Result<(), ListsError> {
        self.exit_list(&call.actor, call.list_id, &call.connection_id)
            .await
    }

    async fn touch_all(&self, calls: &[Touching]) -> Batch<(), ListsError> {
        self.touch_presences(calls).await
    }

    async fn touch_one(&self, call: &Touching) -> Result<(), ListsError> {
        self.touch_presence(call.user_id, call.list_id, &call.connection_id)
            .await
    }

    fn stopped(&self) -> ListsError {
        crate::error::stopping()
    }

    async fn sweep(&self, timeout: Duration) -> Result<u64, ListsError> {
        self.sweep_presence(timeout).await
    }
}
