//! A caller that keeps adding items through one replica until stopped, and
//! remembers which calls succeeded and which failed, so a test can match
//! them against what the stream stored.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use pulse_proto::lists::v1::shopping_lists_client::ShoppingListsClient;
use pulse_testkit::{wait_until, Authorized};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::helpers::add_item;

/// How often a writer retries a call that failed (a replica that is gone fails at once).
const RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

/// What a writer's calls came to: the items of the calls answered OK, and
/// of those that failed (with the status code).
#[derive(Debug, Default)]
pub struct Written {
    pub ok: Vec<String>,
    pub failed: Vec<(String, tonic::Code)>,
}

/// A running writer.
pub struct Writer {
    stop: CancellationToken,
    ok: Arc<AtomicUsize>,
    task: JoinHandle<Written>,
}

impl Writer {
    /// Adds items named `<prefix> <n>` to `lists` in turn, one call at a
    /// time, until stopped.
    pub fn start(
        mut client: ShoppingListsClient<Authorized>,
        lists: Vec<String>,
        prefix: String,
    ) -> Self {
        let stop = CancellationToken::new();
        let ok = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (stop, ok) = (stop.clone(), ok.clone());
            async move {
                let mut written = Written::default();
                let mut retries = tokio::time::interval(RETRY_EVERY);
                for n in 0.. {
                    if stop.is_cancelled() {
                        break;
                    }
                    let name = format!("{prefix} {n}");
                    match client
                        .add_item(add_item(&lists[n % lists.len()], &name))
                        .await
                    {
                        Ok(_) => {
                            written.ok.push(name);
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(status) => {
                            written.failed.push((name, status.code()));
                            tokio::select! {
                                () = stop.cancelled() => break,
                                _ = retries.tick() => {}
                            }
                        }
                    }
                }
                written
            }
        });
        Self { stop, ok, task }
    }

    /// How many calls have succeeded so far.
    pub fn succeeded(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }

    /// Waits until `count` calls have succeeded in all.
    pub async fn until_succeeded(&self, count: usize) {
        let what = format!("{count} calls succeeded");
        wait_until(&what, crate::helpers::PATIENCE, || async {
            self.succeeded() >= count
        })
        .await;
    }

    pub async fn stop(self) -> Written {
        self.stop.cancel();
        self.task.await.expect("writer")
    }
}
