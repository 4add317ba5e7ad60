//! `AddItem` calls through a `pulse_batch` coalescer, the queue list
//! presence uses too: the adds that arrive while a batch is in the database
//! go together in the next one ([`Store::add_items`]); a batch the database
//! refuses as a whole is retried one call at a time.

use std::sync::Arc;

use pulse_batch::{only, BoxFuture, Calls, Coalescer, Outcomes};

use crate::domain::Item;
use crate::store::{Adding, Store};
use crate::ListsError;

/// The queue of `AddItem` calls; cheap to clone.
pub(crate) type ItemAddQueue = Coalescer<ItemAdds>;

/// Starts the queue's worker, which ends with the last clone of the queue.
pub(crate) fn start(store: Store) -> ItemAddQueue {
    Coalescer::start(ItemAdds(store))
}

/// `AddItem`s, served by the store.
pub(crate) struct ItemAdds(Store);

impl Calls for ItemAdds {
    type Call = Adding;
    type Output = Item;
    type Error = ListsError;

    fn together(&self, calls: Arc<Vec<Adding>>) -> BoxFuture<Outcomes<Self>> {
        let store = self.0.clone();
        Box::pin(async move { store.add_items(&calls).await })
    }

    fn alone(&self, calls: Arc<Vec<Adding>>, index: usize) -> BoxFuture<Result<Item, ListsError>> {
        let store = self.0.clone();
        Box::pin(async move {
            only(
                store.add_items(&calls[index..=index]).await,
                crate::error::stopping,
            )
        })
    }

    fn stopped(&self) -> ListsError {
        crate::error::stopping()
    }
}
