//! A service spawned on the test's runtime, and its end: a test that stops
//! it checks it shut down cleanly and in time; a test that just ends cancels
//! it on drop, so no service outlives its test (or its database).

use std::fmt::Debug;
use std::future::Future;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::PATIENCE;

/// A running service's task and the token that stops it. Dropping it
/// cancels the service without waiting.
pub struct RunningService<E> {
    shutdown: CancellationToken,
    /// `None` once [`RunningService::stop`] has waited for it.
    handle: Option<JoinHandle<Result<(), E>>>,
}

impl<E: Debug + Send + 'static> RunningService<E> {
    /// Spawns `run` (typically `|shutdown| app.run_until_stopped(shutdown)`)
    /// with a token that [`RunningService::stop`] and drop cancel.
    pub fn spawn<F>(run: impl FnOnce(CancellationToken) -> F) -> Self
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(run(shutdown.clone()));
        Self {
            shutdown,
            handle: Some(handle),
        }
    }

    /// Cancels the service and waits until it has stopped, failing the test
    /// if it takes longer than [`PATIENCE`], panics or returns an error.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(PATIENCE, handle)
                .await
                .expect("service stops in time")
                .expect("service task")
                .expect("service ran cleanly");
        }
    }
}

impl<E> Drop for RunningService<E> {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_waits_for_a_clean_end() {
        let service = RunningService::<String>::spawn(|shutdown| async move {
            shutdown.cancelled().await;
            Ok(())
        });

        service.stop().await;
    }

    #[tokio::test]
    #[should_panic(expected = "service ran cleanly")]
    async fn stop_fails_when_the_service_failed() {
        let service = RunningService::spawn(|_| async { Err("broken".to_owned()) });

        service.stop().await;
    }

    #[tokio::test]
    async fn drop_cancels_the_service() {
        let (ended, mut end) = tokio::sync::mpsc::channel::<()>(1);
        let service = RunningService::<String>::spawn(|shutdown| async move {
            shutdown.cancelled().await;
            drop(ended);
            Ok(())
        });

        drop(service);

        let closed = tokio::time::timeout(PATIENCE, end.recv()).await;
        assert_eq!(closed, Ok(None), "the service ended");
    }
}
