//! Goals and progress. Assigning relies on the pair's relationship and
//! reporting progress on the client's active relationships; both hold those
//! rows `FOR SHARE`, so a relationship ended or a permission withdrawn at
//! the same moment takes effect entirely before or entirely after.

use chrono::Utc;
use pulse_bus::Topic;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{
    all, GoalRow, ProgressRow, RelationshipRow, GOAL_COLUMNS, PROGRESS_COLUMNS,
    RELATIONSHIP_COLUMNS,
};
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
        let sql = format!(
            "SELECT {RELATIONSHIP_COLUMNS} FROM relationships r
             WHERE r.trainer_id = $1 AND r.client_id = $2 AND r.status IN ('Pending', 'Active')
             FOR SHARE"
        );
        let open: Option<RelationshipRow> = sqlx::query_as(&sql)
            .bind(trainer.id)
            .bind(client_id)
            .fetch_optional(&mut *tx)
            .await?;
        let open = open.map(Relationship::try_from).transpose()?;
        require_assigner(trainer, open.as_ref())?;
        let now = Utc::now();
        let sql = format!(
            "INSERT INTO goals AS g (id, user_id, trainer_id, goal_type, target_calories,
                 target_protein_grams, target_carbs_grams, target_fat_grams, target_date,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {GOAL_COLUMNS}"
        );
        let row: GoalRow = sqlx::query_as(&sql)
            .bind(Uuid::new_v4())
            .bind(client_id)
            .bind(trainer.id)
            .bind(&new.goal_type)
            .bind(new.targets.calories)
            .bind(new.targets.protein_grams)
            .bind(new.targets.carbs_grams)
            .bind(new.targets.fat_grams)
            .bind(new.target_date)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        let goal = Goal::from(row);
        emit(
            &mut tx,
            Topic::Goals(client_id),
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
        let sql = format!(
            "INSERT INTO goal_progress AS p (id, goal_id, user_id, value, notes, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {PROGRESS_COLUMNS}"
        );
        let row: ProgressRow = sqlx::query_as(&sql)
            .bind(Uuid::new_v4())
            .bind(goal_id)
            .bind(user_id)
            .bind(new.value)
            .bind(&new.notes)
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await?;
        let progress = GoalProgress::from(row);
        let trainers: Vec<Uuid> = sqlx::query_scalar(
            "SELECT trainer_id FROM relationships WHERE client_id = $1 AND status = 'Active'
             ORDER BY trainer_id FOR SHARE",
        )
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
        for trainer in trainers {
            emit(
                &mut tx,
                Topic::Goals(trainer),
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
        let mut conn = self.pool.acquire().await?;
        let trains = trains(&mut conn, viewer_id, owner_id).await?;
        require_goal_viewer(viewer_id, owner_id, trains)?;
        let sql = format!(
            "SELECT {GOAL_COLUMNS} FROM goals g WHERE g.user_id = $1
             ORDER BY g.created_at DESC, g.id DESC"
        );
        let rows: Vec<GoalRow> = sqlx::query_as(&sql)
            .bind(owner_id)
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
        let mut conn = self.pool.acquire().await?;
        let owner_id = goal(&mut conn, goal_id).await?.user_id;
        let trains = trains(&mut conn, viewer_id, owner_id).await?;
        require_goal_viewer(viewer_id, owner_id, trains)?;
        let sql = format!(
            "SELECT {PROGRESS_COLUMNS} FROM goal_progress p WHERE p.goal_id = $1
             ORDER BY p.recorded_at DESC, p.id DESC"
        );
        let rows: Vec<ProgressRow> = sqlx::query_as(&sql)
            .bind(goal_id)
            .fetch_all(&mut *conn)
            .await?;
        Ok(all(rows))
    }
}

/// The goal; an unknown one is refused exactly like someone else's, so ids
/// cannot be probed.
async fn goal(conn: &mut PgConnection, goal_id: Uuid) -> Result<Goal, CoachingError> {
    let sql = format!("SELECT {GOAL_COLUMNS} FROM goals g WHERE g.id = $1");
    let row: Option<GoalRow> = sqlx::query_as(&sql)
        .bind(goal_id)
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
    let active: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM relationships
                        WHERE trainer_id = $1 AND client_id = $2 AND status = 'Active')",
    )
    .bind(trainer_id)
    .bind(client_id)
    .fetch_one(conn)
    .await?;
    Ok(active)
}
