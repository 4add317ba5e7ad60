//! PostgreSQL access. Every command is one transaction that locks what it
//! depends on, checks the rules, applies the change and enqueues its event
//! with `pulse_outbox::enqueue`, so the change and the event commit together
//! and events of one session are numbered in the order their changes
//! committed.
//!
//! Lock order is always: session row, then a topic or participant row, then
//! (inside `enqueue`) the session's sequence row. Topic and vote commands
//! hold the session row `FOR SHARE`, so they run side by side but never
//! alongside a status change (`FOR NO KEY UPDATE`) that would close the
//! session under them.

mod participants;
mod presence;
mod rows;
mod sessions;
mod topics;
mod votes;

use pulse_outbox::{Outbox, OutboxTransaction};
use pulse_proto::leancoffee::v1::event::Kind;
use pulse_proto::leancoffee::SESSION;
use sqlx::PgConnection;
use uuid::Uuid;

pub(crate) use self::presence::{Participation, Touching};
use self::rows::SessionRow;
use crate::domain::Session;
use crate::LeanCoffeeError;

/// The service's database. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    /// Holds the pool, and begins the transactions that write events, so
    /// each commit hands their rows to the relay.
    outbox: Outbox,
}

impl Store {
    pub(crate) fn new(outbox: Outbox) -> Self {
        Self { outbox }
    }
}

/// How a command holds the session row while it works.
#[derive(Debug, Clone, Copy)]
enum Hold {
    /// Read only (queries, participation).
    Read,
    /// Topic and vote commands: many at once, but no status change meanwhile.
    Share,
    /// Status changes: alone.
    Exclusive,
}

/// The session, held as `hold` says until the transaction ends.
async fn session(
    conn: &mut PgConnection,
    session_id: Uuid,
    hold: Hold,
) -> Result<Session, LeanCoffeeError> {
    // The session by id, then the lock clause: a macro because each checked
    // query must be one literal.
    macro_rules! select_session {
        ($lock:literal) => {
            sqlx::query_as!(
                SessionRow,
                "SELECT id, title, description, facilitator_id, status, scheduled_start_time,
                        actual_start_time, actual_end_time, created_at
                 FROM sessions WHERE id = $1 "
                    + $lock,
                session_id,
            )
            .fetch_optional(conn)
            .await?
        };
    }
    let row = match hold {
        Hold::Read => select_session!(""),
        Hold::Share => select_session!("FOR SHARE"),
        Hold::Exclusive => select_session!("FOR NO KEY UPDATE"),
    };
    row.ok_or(LeanCoffeeError::NotFound("session not found"))?
        .try_into()
}

/// Enqueues an event for group `session_{session_id}` in the caller's
/// transaction; `except` keeps it from that user's own connections ("to the
/// others").
async fn emit(
    tx: &mut OutboxTransaction,
    session_id: Uuid,
    event: Kind,
    except: Option<Uuid>,
) -> Result<(), LeanCoffeeError> {
    pulse_outbox::enqueue(tx, &SESSION.topic(session_id), event, except).await?;
    Ok(())
}
