//! Sharing: add, remove and re-permission collaborators.

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::CollaboratorRow;
use super::{access, emit, Store};
use crate::domain::{
    check_permission_change, check_removal, check_share, Action, Collaborator, Permission, UserRef,
};
use crate::error::ALREADY_COLLABORATOR;
use crate::{events, ListsError};

/// Who to share with, validated.
#[derive(Debug, Clone)]
pub(crate) struct Share {
    pub user_id: Uuid,
    /// Overrides the name the user last signed in with; required for users
    /// the service has never seen.
    pub display_name: Option<String>,
    pub permission: Permission,
}

impl Store {
    /// Gives a user access (owner only). Emits `CollaboratorAdded`.
    pub(crate) async fn share_list(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        share: Share,
    ) -> Result<Collaborator, ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require(Action::Manage)?;
        check_share(access.list.owner_id, share.user_id)?;
        if access::permission_of(&mut tx, list_id, share.user_id)
            .await?
            .is_some()
        {
            return Err(ListsError::AlreadyExists(ALREADY_COLLABORATOR));
        }
        let user = resolve_user(&mut tx, share.user_id, share.display_name).await?;
        let added_at = Utc::now();
        sqlx::query!(
            "INSERT INTO collaborators (list_id, user_id, permission, added_at) VALUES ($1, $2, $3, $4)",
            list_id,
            user.id,
            share.permission.as_str(),
            added_at,
        )
        .execute(&mut *tx)
        .await?;
        let collaborator = fetch_collaborator(&mut tx, list_id, user.id)
            .await?
            .ok_or(ListsError::NotFound("collaborator not found"))?;
        emit(
            &mut tx,
            list_id,
            events::collaborator_added(list_id, &collaborator, actor, added_at),
            None,
        )
        .await?;
        tx.commit().await?;
        // The name given here replaces the one the user signed in with.
        self.known_names
            .stored([(user.id, user.display_name.as_str())]);
        Ok(collaborator)
    }

    /// Removes a collaborator: the owner removes anyone else, a collaborator
    /// removes themself. Emits `CollaboratorRemoved` (which gateways deliver
    /// to the removed user too, then drop their connections from the group),
    /// and, if the removed user was present, `UserLeft` to the others, since
    /// their presence ends with their access.
    pub(crate) async fn remove_collaborator(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        user_id: Uuid,
    ) -> Result<(), ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        let actor_permission = access.require(Action::Read)?;
        let Some(target) = fetch_collaborator(&mut tx, list_id, user_id).await? else {
            // Only the owner may learn whether someone else collaborates.
            access.require(Action::Manage)?;
            return Err(ListsError::NotFound("collaborator not found"));
        };
        check_removal(actor.id, actor_permission, user_id, target.permission)?;
        sqlx::query!(
            "DELETE FROM collaborators WHERE list_id = $1 AND user_id = $2",
            list_id,
            user_id,
        )
        .execute(&mut *tx)
        .await?;
        emit(
            &mut tx,
            list_id,
            events::collaborator_removed(list_id, &target.user, actor, Utc::now()),
            None,
        )
        .await?;
        super::presence::end_presence(&mut tx, list_id, &target.user).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes an editor to viewer or back (owner only). Emits
    /// `CollaboratorPermissionChanged`; giving the current permission again
    /// is a no-op.
    pub(crate) async fn change_collaborator_permission(
        &self,
        actor: &UserRef,
        list_id: Uuid,
        user_id: Uuid,
        permission: Permission,
    ) -> Result<Collaborator, ListsError> {
        let (mut tx, access) = access::begin_locked(&self.outbox, list_id, actor.id).await?;
        access.require(Action::Manage)?;
        let Some(mut collaborator) = fetch_collaborator(&mut tx, list_id, user_id).await? else {
            return Err(ListsError::NotFound("collaborator not found"));
        };
        check_permission_change(collaborator.permission)?;
        let old = collaborator.permission;
        if old == permission {
            return Ok(collaborator);
        }
        sqlx::query!(
            "UPDATE collaborators SET permission = $3 WHERE list_id = $1 AND user_id = $2",
            list_id,
            user_id,
            permission.as_str(),
        )
        .execute(&mut *tx)
        .await?;
        collaborator.permission = permission;
        let now = Utc::now();
        let event = events::collaborator_permission_changed(
            list_id,
            &collaborator.user,
            old,
            permission,
            actor,
            now,
        );
        emit(&mut tx, list_id, event, None).await?;
        tx.commit().await?;
        Ok(collaborator)
    }
}

/// The user to share with: a given display name is recorded (and wins),
/// otherwise the name they last signed in with; a user never seen and not
/// named is unknown.
async fn resolve_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    display_name: Option<String>,
) -> Result<UserRef, ListsError> {
    let name = match display_name {
        Some(name) => Some(
            sqlx::query_scalar!(
                "INSERT INTO users (id, display_name) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name
                 RETURNING display_name",
                user_id,
                name,
            )
            .fetch_one(&mut *conn)
            .await?,
        ),
        None => {
            sqlx::query_scalar!("SELECT display_name FROM users WHERE id = $1", user_id)
                .fetch_optional(&mut *conn)
                .await?
        }
    };
    let display_name = name.ok_or(ListsError::NotFound("unknown user"))?;
    Ok(UserRef {
        id: user_id,
        display_name,
    })
}

async fn fetch_collaborator(
    conn: &mut PgConnection,
    list_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Collaborator>, ListsError> {
    let row = sqlx::query_as!(
        CollaboratorRow,
        "SELECT c.user_id, u.display_name, c.permission, c.added_at
         FROM collaborators c JOIN users u ON u.id = c.user_id
         WHERE c.list_id = $1 AND c.user_id = $2",
        list_id,
        user_id,
    )
    .fetch_optional(conn)
    .await?;
    row.map(Collaborator::try_from).transpose()
}
