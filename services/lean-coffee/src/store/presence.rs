//! Session participation as `pulse_presence` batches it, the mechanism list
//! presence uses too: enters, exits and keep-alives that arrive together go
//! to the database together, one transaction per batch with set-based
//! statements, and each call gets the outcome it would have had alone (a
//! single call is a batch of one).
//!
//! The participant rows are locked in (session, user) order, so two batches
//! (or a batch and the sweeper, which locks one user at a time) never wait on
//! each other in a cycle; under those locks "first / last connection of the
//! user" is answered for the whole batch at once, and each user is announced
//! once however many of their tabs the batch holds.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    time::Duration,
};

use chrono::Utc;
use pulse_presence::{Batch, Presence};
use pulse_proto::leancoffee::SESSION;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{ParticipantRow, SessionRow};
use super::Store;
use crate::domain::{Actor, ConnectionId, Participant, Role, Session};
use crate::{events, LeanCoffeeError};

/// A call to enter or exit a session through a connection.
#[derive(Debug)]
pub(crate) struct Participation {
    pub actor: Actor,
    pub session_id: Uuid,
    pub connection: ConnectionId,
}

/// A keep-alive of a connection in a session.
#[derive(Debug)]
pub(crate) struct Touching {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub connection: ConnectionId,
}

/// A (session, user) pair: the participant row's key and its lock order.
type Pair = (Uuid, Uuid);

fn pair(call: &Participation) -> Pair {
    (call.session_id, call.actor.id)
}

/// One value per item: an array parameter for `UNNEST`, an outcome per call.
fn column<T, V>(items: impl IntoIterator<Item = T>, value: impl Fn(T) -> V) -> Vec<V> {
    items.into_iter().map(value).collect()
}

impl Presence for Store {
    type Enter = Participation;
    type Entered = Participant;
    type Exit = Participation;
    type Touch = Touching;
    type Error = LeanCoffeeError;

    /// Makes each caller a participant (again) through their connection:
    /// the session must exist and the connection id must not be another
    /// user's; a refused call leaves no participant behind. A user's first
    /// connection (when they were not active) emits `ParticipantJoined` to
    /// the others. Fails as a whole only for a database error (or a
    /// connection id given twice).
    async fn enter_all(&self, calls: &[Participation]) -> Batch<Participant, LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        let sessions = sessions(&mut tx, calls).await?;
        let mut outcomes = column(calls, |call| found(&sessions, call));
        // The first call of a pair names a new participant, as it would
        // have alone.
        let mut pairs: BTreeMap<Pair, &Participation> = BTreeMap::new();
        for (call, _) in calls.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()) {
            pairs.entry(pair(call)).or_insert(call);
        }
        let created: Vec<Pair> = sqlx::query!(
            "INSERT INTO participants (session_id, user_id, display_name, role, is_active, joined_at)
             SELECT sid, uid, name, role, FALSE, now()
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS e (sid, uid, name, role)
             ON CONFLICT (session_id, user_id) DO NOTHING
             RETURNING session_id, user_id",
            &column(pairs.keys(), |(session, _)| *session),
            &column(pairs.keys(), |(_, user)| *user),
            &column(pairs.values(), |call| call.actor.display_name.clone()),
            &column(pairs.values(), |call| {
                Role::of(&sessions[&call.session_id], call.actor.id).as_str()
            }) as &[&str],
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| (row.session_id, row.user_id))
        .collect();
        let was_active = lock(&mut tx, pairs.keys()).await?;
        let admitted: Vec<&Participation> = column(
            calls.iter().zip(&outcomes).filter(|(_, o)| o.is_ok()),
            |(call, _)| call,
        );
        let claimed = sqlx::query!(
            "INSERT INTO participant_connections (session_id, connection_id, user_id, last_seen)
             SELECT sid, cid, uid, now()
             FROM UNNEST($1::uuid[], $2::text[], $3::uuid[]) AS e (sid, cid, uid)
             ON CONFLICT (session_id, connection_id) DO UPDATE SET last_seen = now()
                 WHERE participant_connections.user_id = EXCLUDED.user_id
             RETURNING session_id, connection_id",
            &column(&admitted, |call| call.session_id),
            &column(&admitted, |call| call.connection.as_str().to_owned()),
            &column(&admitted, |call| call.actor.id),
        )
        .fetch_all(&mut *tx)
        .await?;
        let claimed: HashSet<(Uuid, &str)> = claimed
            .iter()
            .map(|row| (row.session_id, row.connection_id.as_str()))
            .collect();
        // The name a pair ends with: the last one given, a token without a
        // name keeping the name known (as calls one after another would).
        let mut entered: BTreeMap<Pair, &str> = BTreeMap::new();
        for (call, outcome) in calls.iter().zip(outcomes.iter_mut()) {
            if outcome.is_err() {
                continue;
            }
            if !claimed.contains(&(call.session_id, call.connection.as_str())) {
                *outcome = Err(LeanCoffeeError::Invalid(
                    "connectionId is in use by another user".into(),
                ));
                continue;
            }
            let name = entered.entry(pair(call)).or_default();
            if !call.actor.display_name.is_empty() {
                *name = &call.actor.display_name;
            }
        }
        let unused: Vec<&Pair> = column(
            created.iter().filter(|pair| !entered.contains_key(*pair)),
            |pair| pair,
        );
        sqlx::query!(
            "DELETE FROM participants p USING UNNEST($1::uuid[], $2::uuid[]) AS e (sid, uid)
             WHERE p.session_id = e.sid AND p.user_id = e.uid",
            &column(&unused, |(session, _)| *session),
            &column(&unused, |(_, user)| *user),
        )
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query!(
            "UPDATE participants p
             SET is_active = TRUE, left_at = NULL,
                 display_name = CASE WHEN e.name = '' THEN p.display_name ELSE e.name END
             FROM UNNEST($1::uuid[], $2::uuid[], $3::text[]) AS e (sid, uid, name)
             WHERE p.session_id = e.sid AND p.user_id = e.uid
             RETURNING p.session_id, p.user_id, p.display_name, p.role, p.is_active, p.joined_at,
                       p.left_at",
            &column(entered.keys(), |(session, _)| *session),
            &column(entered.keys(), |(_, user)| *user),
            &column(entered.values(), |name| (*name).to_owned()),
        )
        .fetch_all(&mut *tx)
        .await?;
        let now = Utc::now();
        let mut notices = Vec::new();
        let mut participants: HashMap<Pair, Participant> = HashMap::new();
        for row in rows {
            let participant = Participant::try_from(ParticipantRow {
                user_id: row.user_id,
                display_name: row.display_name,
                role: row.role,
                is_active: row.is_active,
                joined_at: row.joined_at,
                left_at: row.left_at,
            })?;
            let key = (row.session_id, participant.user_id);
            if !was_active.contains(&key) {
                let joined = Actor {
                    id: participant.user_id,
                    display_name: participant.display_name.clone(),
                };
                notices.push((
                    SESSION.topic(row.session_id),
                    events::participant_joined(row.session_id, &joined, now),
                    Some(joined.id),
                ));
            }
            participants.insert(key, participant);
        }
        pulse_outbox::enqueue_notices(&mut tx, notices).await?;
        tx.commit().await?;
        Ok(column(calls.iter().zip(outcomes), |(call, outcome)| {
            outcome?;
            let participant = participants.get(&pair(call)).cloned();
            participant.ok_or(LeanCoffeeError::NotFound("participant not found"))
        }))
    }

    /// Removes each connection; a user's last one marks them inactive and
    /// emits `ParticipantLeft` to the others. Exiting a connection that is
    /// not in the session does nothing.
    async fn exit_all(&self, calls: &[Participation]) -> Batch<(), LeanCoffeeError> {
        let mut tx = self.outbox.begin().await?;
        let sessions = sessions(&mut tx, calls).await?;
        let known: Vec<&Participation> = column(
            calls
                .iter()
                .filter(|call| sessions.contains_key(&call.session_id)),
            |call| call,
        );
        let pairs: BTreeSet<Pair> = column(&known, |call| pair(call)).into_iter().collect();
        lock(&mut tx, pairs.iter()).await?;
        let removed = sqlx::query!(
            "DELETE FROM participant_connections c
             USING UNNEST($1::uuid[], $2::text[], $3::uuid[]) AS e (sid, cid, uid)
             WHERE c.session_id = e.sid AND c.connection_id = e.cid AND c.user_id = e.uid
             RETURNING c.session_id, c.user_id",
            &column(&known, |call| call.session_id),
            &column(&known, |call| call.connection.as_str().to_owned()),
            &column(&known, |call| call.actor.id),
        )
        .fetch_all(&mut *tx)
        .await?;
        let gone: BTreeSet<Pair> = column(removed, |row| (row.session_id, row.user_id))
            .into_iter()
            .collect();
        let left = sqlx::query!(
            "UPDATE participants p SET is_active = FALSE, left_at = now()
             FROM UNNEST($1::uuid[], $2::uuid[]) AS e (sid, uid)
             WHERE p.session_id = e.sid AND p.user_id = e.uid AND p.is_active
               AND NOT EXISTS (SELECT 1 FROM participant_connections c
                               WHERE c.session_id = e.sid AND c.user_id = e.uid)
             RETURNING p.session_id, p.user_id, p.display_name",
            &column(&gone, |(session, _)| *session),
            &column(&gone, |(_, user)| *user),
        )
        .fetch_all(&mut *tx)
        .await?;
        let now = Utc::now();
        let notices = column(left, |row| {
            let user = Actor {
                id: row.user_id,
                display_name: row.display_name,
            };
            (
                SESSION.topic(row.session_id),
                events::participant_left(row.session_id, &user, now),
                Some(row.user_id),
            )
        });
        pulse_outbox::enqueue_notices(&mut tx, notices).await?;
        tx.commit().await?;
        Ok(column(calls, |call| found(&sessions, call)))
    }

    /// The heartbeats, in one statement. NOT_FOUND for a connection not in
    /// the session (removed by the sweeper, or never entered): the gateway
    /// then enters again. Needs no participant lock: the sweeper's delete
    /// re-checks `last_seen` after waiting for this update, so a touched row
    /// is never swept.
    async fn touch_all(&self, entries: &[Touching]) -> Batch<(), LeanCoffeeError> {
        let touched = sqlx::query!(
            "UPDATE participant_connections c SET last_seen = now()
             FROM UNNEST($1::uuid[], $2::text[], $3::uuid[]) AS e (session_id, connection_id, user_id)
             WHERE c.session_id = e.session_id AND c.connection_id = e.connection_id
               AND c.user_id = e.user_id
             RETURNING c.session_id, c.connection_id",
            &column(entries, |e| e.session_id),
            &column(entries, |e| e.connection.as_str().to_owned()),
            &column(entries, |e| e.user_id),
        )
        .fetch_all(self.outbox.pool())
        .await?;
        let touched: HashSet<(Uuid, &str)> = touched
            .iter()
            .map(|row| (row.session_id, row.connection_id.as_str()))
            .collect();
        Ok(column(entries, |e| {
            if touched.contains(&(e.session_id, e.connection.as_str())) {
                Ok(())
            } else {
                Err(LeanCoffeeError::NotFound(
                    "connection is not in this session",
                ))
            }
        }))
    }

    /// The worker is gone: the service is stopping.
    fn stopped(&self) -> LeanCoffeeError {
        LeanCoffeeError::Storage(sqlx::Error::PoolClosed.into())
    }

    async fn sweep(&self, timeout: Duration) -> Result<u64, LeanCoffeeError> {
        self.sweep_connections(timeout).await
    }
}

/// NOT_FOUND for a call to a session that does not exist.
fn found(sessions: &HashMap<Uuid, Session>, call: &Participation) -> Result<(), LeanCoffeeError> {
    if sessions.contains_key(&call.session_id) {
        Ok(())
    } else {
        Err(LeanCoffeeError::NotFound("session not found"))
    }
}

/// The calls' sessions that exist, read without a lock (as participation
/// reads them one at a time).
async fn sessions(
    conn: &mut PgConnection,
    calls: &[Participation],
) -> Result<HashMap<Uuid, Session>, LeanCoffeeError> {
    let ids: BTreeSet<Uuid> = column(calls, |call| call.session_id).into_iter().collect();
    let rows = sqlx::query_as!(
        SessionRow,
        "SELECT id, title, description, facilitator_id, status, scheduled_start_time,
                actual_start_time, actual_end_time, created_at
         FROM sessions WHERE id = ANY($1)",
        &column(ids, |id| id),
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|row| Session::try_from(row).map(|session| (session.id, session)))
        .collect()
}

/// Locks the pairs' participant rows in (session, user) order for the rest of
/// the transaction; returns the pairs that were active.
async fn lock<'a>(
    conn: &mut PgConnection,
    pairs: impl Iterator<Item = &'a Pair> + Clone,
) -> Result<HashSet<Pair>, LeanCoffeeError> {
    let rows = sqlx::query!(
        "SELECT session_id, user_id, is_active FROM participants
         WHERE (session_id, user_id) IN (SELECT * FROM UNNEST($1::uuid[], $2::uuid[]))
         ORDER BY session_id, user_id
         FOR UPDATE",
        &column(pairs.clone(), |(session, _)| *session),
        &column(pairs, |(_, user)| *user),
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|row| row.is_active)
        .map(|row| (row.session_id, row.user_id))
        .collect())
}
