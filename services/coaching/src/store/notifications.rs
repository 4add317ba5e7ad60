//! Per-user notifications: stored, then delivered live to the user's
//! `/hubs/notifications` connections.

use chrono::Utc;
use pulse_outbox::OutboxTransaction;
use pulse_proto::coaching::NOTIFICATIONS;
use uuid::Uuid;

use super::rows::{all, NotificationRow};
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
        let rows = sqlx::query_as!(
            NotificationRow,
            "SELECT n.id, n.user_id, n.kind, n.title, n.body, n.created_at FROM notifications n WHERE n.user_id = $1
             ORDER BY n.created_at DESC, n.id DESC LIMIT $2",
            user_id,
            i64::from(limit.get()),
        )
        .fetch_all(self.outbox.pool())
        .await?;
        Ok(all(rows))
    }
}

/// Stores a notification with its `ReceiveNotification` event in the
/// caller's transaction.
pub(super) async fn store_notification(
    tx: &mut OutboxTransaction,
    new: NewNotification,
) -> Result<Notification, CoachingError> {
    let row = sqlx::query_as!(
        NotificationRow,
        "INSERT INTO notifications AS n (id, user_id, kind, title, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING n.id, n.user_id, n.kind, n.title, n.body, n.created_at",
        Uuid::new_v4(),
        new.user_id,
        &new.kind,
        &new.title,
        new.body.as_deref(),
        Utc::now(),
    )
    .fetch_one(&mut **tx)
    .await?;
    let notification = Notification::from(row);
    emit(
        tx,
        NOTIFICATIONS.topic(notification.user_id),
        events::receive_notification(&notification),
    )
    .await?;
    Ok(notification)
}
