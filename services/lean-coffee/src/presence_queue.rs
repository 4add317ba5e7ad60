//! Keep-alives through a `pulse_presence` queue, as the shopping-list service
//! does for list presence: the confirmations a gateway sends together go to
//! the database in one statement, a refused batch one call at a time.

use std::sync::Arc;

use pulse_presence::{BoxFuture, Calls, Coalescer, Outcomes};

use crate::store::{Store, Touching};
use crate::LeanCoffeeError;

/// The queue; cheap to clone. Its worker ends with the last clone.
#[derive(Debug, Clone)]
pub(crate) struct PresenceQueue {
    touches: Coalescer<Touches>,
}

impl PresenceQueue {
    pub(crate) fn start(store: Store) -> Self {
        Self {
            touches: Coalescer::start(Touches(store)),
        }
    }

    pub(crate) async fn touch(&self, call: Touching) -> Result<(), LeanCoffeeError> {
        self.touches.call(call).await
    }
}

struct Touches(Store);

impl Calls for Touches {
    type Call = Touching;
    type Output = ();
    type Error = LeanCoffeeError;

    fn together(&self, calls: Arc<Vec<Touching>>) -> BoxFuture<Outcomes<Self>> {
        let store = self.0.clone();
        Box::pin(async move { store.touch_sessions(&calls).await })
    }

    fn alone(
        &self,
        calls: Arc<Vec<Touching>>,
        index: usize,
    ) -> BoxFuture<Result<(), LeanCoffeeError>> {
        let store = self.0.clone();
        Box::pin(async move {
            let call = &calls[index];
            store
                .touch_session(call.user_id, call.session_id, &call.connection)
                .await
        })
    }

    /// The worker is gone: the service is stopping.
    fn stopped(&self) -> LeanCoffeeError {
        LeanCoffeeError::Storage(sqlx::Error::PoolClosed.into())
    }
}
