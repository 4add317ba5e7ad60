//! Goals and progress. Assigning relies on the pair's relationship and
//! reporting progress on the client's active relationships; both hold those
//! rows `FOR SHARE`, so a relationship ended or a permission withdrawn at
//! the same moment takes effect entirely before or entirely after.

use chrono::Utc;
use pulse_proto::coaching::GOALS;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{all, GoalRow, ProgressRow, RelationshipRow};
use super::{emit, Store};
use crate::domain::{
    require_assigner, require_goal_viewer, Caller, Goal, GoalProgress, NewGoal, NewProgress,
    Relationship, NOT_AUTHORIZED,
};
use crate::{events, CoachingError};

impl Store {
    /// Stores a goal of `client_id` assigned by the caller and emits
    /// `GoalAssigned` to the client; refused (nothing stored) unless the
    /// caller may assign goals to them.
    pub(crate) async fn assign_goal(
        &self,
        trainer: &Caller,
        client_id: Uuid,
        new: NewGoal,
    ) -> Result<Goal, CoachingError> {
        let mut tx = self.outbox.begin().await?;
        let open = sqlx::query_as!(
            RelationshipRow,
            "SELECT r.id, r.trainer_id, r.client_id, r.status, r.can_edit_goals, r.created_at, r.updated_at FROM relationships r
             WHERE r.trainer_id = $1 AND r.client_id = $2 AND r.status IN ('Pending', 'Active')
             FOR SHARE",
            trainer.id,
            client_id,
        )
        .fetch_optional(&mut *tx)
        .await?;
        let open = open.map(Relationship::try_from).transpose()?;
        require_assigner(trainer, open.as_ref())?;
        let now = Utc::now();
        let row = sqlx::query_as!(
            GoalRow,
            "INSERT INTO goals AS g (id, user_id, trainer_id, goal_type, target_calories,
                 target_protein_grams, target_carbs_grams, target_fat_grams, target_date,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             RETURNING g.id, g.user_id, g.trainer_id, g.goal_type, g.target_calories,
                    g.target_protein_grams, g.target_carbs_grams, g.target_fat_grams,
                    g.target_date, g.created_at, g.updated_at",
            Uuid::new_v4(),
            client_id,
            trainer.id,
            &new.goal_type,
            new.targets.calories,
            new.targets.protein_grams,
            new.targets.carbs_grams,
            new.targets.fat_grams,
            new.target_date,
            now,
        )
        .fetch_one(&mut *tx)
        .await?;
        let goal = Goal::from(row);
        emit(
            &mut tx,
            GOALS.topic(client_id),
            events::goal_assigned(&goal),
        )
        .await?;
        tx.commit().await?;
        Ok(goal)
    }

    /// Records progress on the caller's own goal and emits
    /// `ClientProgressUpdate` to each trainer with an active relationship to
    /// them (none without one; the progress is stored all the same).
    pub(crate) async fn record_progress(
        &self,
        user_id: Uuid,
        goal_id: Uuid,
        new: NewProgress,
    ) -> Result<GoalProgress, CoachingError> {
        let mut tx = self.outbox.begin().await?;
        goal(&mut tx, goal_id).await?.require_owner(user_id)?;
        let row = sqlx::query_as!(
            ProgressRow,
            "INSERT INTO goal_progress AS p (id, goal_id, user_id, value, notes, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING p.id, p.goal_id, p.user_id, p.value, p.notes, p.recorded_at",
            Uuid::new_v4(),
            goal_id,
            user_id,
            new.value,
            new.notes.as_deref(),
            Utc::now(),
        )
        .fetch_one(&mut *tx)
        .await?;
        let progress = GoalProgress::from(row);
        let trainers = sqlx::query_scalar!(
            "SELECT trainer_id FROM relationships WHERE client_id = $1 AND status = 'Active'
             ORDER BY trainer_id FOR SHARE",
            user_id,
        )
        .fetch_all(&mut *tx)
        .await?;
        for trainer in trainers {
            emit(
                &mut tx,
                GOALS.topic(trainer),
                events::client_progress_update(&progress),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(progress)
    }

    /// The goals of `owner_id`, newest first, if the viewer may see them.
    pub(crate) async fn goals(
        &self,
        viewer_id: Uuid,
        owner_id: Uuid,
    ) -> Result<Vec<Goal>, CoachingError> {
        let mut conn = self.outbox.pool().acquire().await?;
        let trains = trains(&mut conn, viewer_id, owner_id).await?;
        require_goal_viewer(viewer_id, owner_id, trains)?;
        let rows = sqlx::query_as!(
            GoalRow,
            "SELECT g.id, g.user_id, g.trainer_id, g.goal_type, g.target_calories,
                    g.target_protein_grams, g.target_carbs_grams, g.target_fat_grams,
                    g.target_date, g.created_at, g.updated_at
             FROM goals g WHERE g.user_id = $1
             ORDER BY g.created_at DESC, g.id DESC",
            owner_id,
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(all(rows))
    }

    /// A goal's progress, newest first, for whoever may see the goal.
    pub(crate) async fn progress(
        &self,
        viewer_id: Uuid,
        goal_id: Uuid,
    ) -> Result<Vec<GoalProgress>, CoachingError> {
        let mut conn = self.outbox.pool().acquire().await?;
        let owner_id = goal(&mut conn, goal_id).await?.user_id;
        let trains = trains(&mut conn, viewer_id, owner_id).await?;
        require_goal_viewer(viewer_id, owner_id, trains)?;
        let rows = sqlx::query_as!(
            ProgressRow,
            "SELECT p.id, p.goal_id, p.user_id, p.value, p.notes, p.recorded_at FROM goal_progress p WHERE p.goal_id = $1
             ORDER BY p.recorded_at DESC, p.id DESC",
            goal_id,
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(all(rows))
    }
}

/// The goal; an unknown one is refused exactly like someone else's, so ids
/// cannot be probed.
async fn goal(conn: &mut PgConnection, goal_id: Uuid) -> Result<Goal, CoachingError> {
    let row = sqlx::query_as!(
        GoalRow,
        "SELECT g.id, g.user_id, g.trainer_id, g.goal_type, g.target_calories,
                    g.target_protein_grams, g.target_carbs_grams, g.target_fat_grams,
                    g.target_date, g.created_at, g.updated_at
         FROM goals g WHERE g.id = $1",
        goal_id,
    )
    .fetch_optional(conn)
    .await?;
    row.map(Goal::from)
        .ok_or(CoachingError::PermissionDenied(NOT_AUTHORIZED))
}

/// Whether `trainer_id` has an active relationship with `client_id`.
async fn trains(
    conn: &mut PgConnection,
    trainer_id: Uuid,
    client_id: Uuid,
) -> Result<bool, CoachingError> {
    let active = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM relationships
                        WHERE trainer_id = $1 AND client_id = $2 AND status = 'Active')
                AS "active!""#,
        trainer_id,
        client_id,
    )
    .fetch_one(conn)
    .await?;
    Ok(active)
}
