//! Per-user notifications: stored, then delivered live to the user's
//! `/hubs/notifications` connections.

use chrono::Utc;
use pulse_bus::Topic;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{all, NotificationRow, NOTIFICATION_COLUMNS};
use super::{emit, Store};
use crate::domain::{NewNotification, Notification, PageLimit};
use crate::{events, CoachingError};

impl Store {
    /// Stores the notification and emits `ReceiveNotification` to its user.
    pub(crate) async fn notify(&self, new: NewNotification) -> Result<Notification, CoachingError> {
        let mut tx = self.outbox.begin().await?;
        let notification = store_notification(&mut tx, new).await?;
        tx.commit().await?;
        Ok(notification)
    }

    /// The user's newest notifications, at most `limit`.
    pub(crate) async fn notifications(
        &self,
        user_id: Uuid,
        limit: PageLimit,
    ) -> Result<Vec<Notification>, CoachingError> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications n WHERE n.user_id = $1
             ORDER BY n.created_at DESC, n.id DESC LIMIT $2"
        );
        let rows: Vec<NotificationRow> = sqlx::query_as(&sql)
            .bind(user_id)
            .bind(i64::from(limit.get()))
            .fetch_all(&self.pool)
            .await?;
        Ok(all(rows))
    }
}

/// Stores a notification with its `ReceiveNotification` event in the
/// caller's transaction.
pub(super) async fn store_notification(
    conn: &mut PgConnection,
    new: NewNotification,
) -> Result<Notification, CoachingError> {
    let sql = format!(
        "INSERT INTO notifications AS n (id, user_id, kind, title, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {NOTIFICATION_COLUMNS}"
    );
    let row: NotificationRow = sqlx::query_as(&sql)
        .bind(Uuid::new_v4())
        .bind(new.user_id)
        .bind(&new.kind)
        .bind(&new.title)
        .bind(&new.body)
        .bind(Utc::now())
        .fetch_one(&mut *conn)
        .await?;
    let notification = Notification::from(row);
    emit(
        conn,
        Topic::Notifications(notification.user_id),
        events::receive_notification(&notification),
    )
    .await?;
    Ok(notification)
}
