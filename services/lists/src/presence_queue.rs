//! Presence calls, coalesced. Enters (and exits, and keep-alives) that arrive while a batch is
//! in the database wait and go together in the next one: one transaction and
//! one commit for all of them instead of one each. Nothing waits for a timer:
//! a lone call goes at once, and under a crowd (10,000 connections joining
//! one list) batches grow by themselves, so the crowd costs a few dozen
//! transactions. Each caller still gets its own outcome; a batch the database
//! refuses as a whole is retried one call at a time, so one bad call never
//! fails the others.

use tokio::sync::{mpsc, oneshot};

use crate::domain::ActiveUser;
use crate::store::{Entering, Exiting, Store, Touching};
use crate::ListsError;

/// Calls per transaction at most.
const BATCH_MAX: usize = 512;
/// Calls waiting at most; callers beyond it wait to be queued.
const QUEUE_MAX: usize = 16_384;

/// One waiting call and where its outcome goes.
struct Job<T, R> {
    call: T,
    reply: oneshot::Sender<Result<R, ListsError>>,
}

type EnterJob = Job<Entering, Vec<ActiveUser>>;
type ExitJob = Job<Exiting, ()>;
type TouchJob = Job<Touching, ()>;

/// The queues; cheap to clone. Their workers end when the last clone is gone.
#[derive(Debug, Clone)]
pub(crate) struct PresenceQueue {
    enters: mpsc::Sender<EnterJob>,
    exits: mpsc::Sender<ExitJob>,
    touches: mpsc::Sender<TouchJob>,
}

impl PresenceQueue {
    /// Starts one worker each for enters, exits and keep-alives.
    pub(crate) fn start(store: Store) -> Self {
        let (enters, enter_jobs) = mpsc::channel(QUEUE_MAX);
        let (exits, exit_jobs) = mpsc::channel(QUEUE_MAX);
        let (touches, touch_jobs) = mpsc::channel(QUEUE_MAX);
        tokio::spawn(enter_worker(store.clone(), enter_jobs));
        tokio::spawn(exit_worker(store.clone(), exit_jobs));
        tokio::spawn(touch_worker(store, touch_jobs));
        Self {
            enters,
            exits,
            touches,
        }
    }

    pub(crate) async fn enter(&self, call: Entering) -> Result<Vec<ActiveUser>, ListsError> {
        let (reply, outcome) = oneshot::channel();
        self.enters
            .send(Job { call, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    pub(crate) async fn touch(&self, call: Touching) -> Result<(), ListsError> {
        let (reply, outcome) = oneshot::channel();
        self.touches
            .send(Job { call, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    pub(crate) async fn exit(&self, call: Exiting) -> Result<(), ListsError> {
        let (reply, outcome) = oneshot::channel();
        self.exits
            .send(Job { call, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// The worker is gone: the service is stopping.
fn stopped() -> ListsError {
    ListsError::Storage(sqlx::Error::PoolClosed.into())
}

/// The next batch: the first waiting call and whatever queued behind it.
async fn next_batch<T, R>(jobs: &mut mpsc::Receiver<Job<T, R>>) -> Option<Vec<Job<T, R>>> {
    let first = jobs.recv().await?;
    let mut batch = vec![first];
    while batch.len() < BATCH_MAX {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn enter_worker(store: Store, mut jobs: mpsc::Receiver<EnterJob>) {
    while let Some(batch) = next_batch(&mut jobs).await {
        let (calls, replies): (Vec<Entering>, Vec<_>) =
            batch.into_iter().map(|job| (job.call, job.reply)).unzip();
        match store.enter_lists(&calls).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::debug!(%error, calls = calls.len(), "presence batch refused; one by one");
                for (call, reply) in calls.into_iter().zip(replies) {
                    let outcome = match store
                        .remember_user(call.actor.id, &call.actor.display_name)
                        .await
                    {
                        Ok(actor) => {
                            store
                                .enter_list(&actor, call.list_id, call.connection)
                                .await
                        }
                        Err(error) => Err(error),
                    };
                    let _ = reply.send(outcome);
                }
            }
        }
    }
}

async fn exit_worker(store: Store, mut jobs: mpsc::Receiver<ExitJob>) {
    while let Some(batch) = next_batch(&mut jobs).await {
        let (calls, replies): (Vec<Exiting>, Vec<_>) =
            batch.into_iter().map(|job| (job.call, job.reply)).unzip();
        match store.exit_lists(&calls).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::debug!(%error, calls = calls.len(), "presence batch refused; one by one");
                for (call, reply) in calls.into_iter().zip(replies) {
                    let outcome = store
                        .exit_list(&call.actor, call.list_id, &call.connection_id)
                        .await;
                    let _ = reply.send(outcome);
                }
            }
        }
    }
}

async fn touch_worker(store: Store, mut jobs: mpsc::Receiver<TouchJob>) {
    while let Some(batch) = next_batch(&mut jobs).await {
        let (calls, replies): (Vec<Touching>, Vec<_>) =
            batch.into_iter().map(|job| (job.call, job.reply)).unzip();
        match store.touch_presences(&calls).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::debug!(%error, calls = calls.len(), "presence batch refused; one by one");
                for (call, reply) in calls.into_iter().zip(replies) {
                    let outcome = store
                        .touch_presence(call.user_id, call.list_id, &call.connection_id)
                        .await;
                    let _ = reply.send(outcome);
                }
            }
        }
    }
}
