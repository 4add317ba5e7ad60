//! The `ShoppingLists` gRPC service: authenticate, turn the request into
//! validated domain values, call the store, turn the result into the response.
//! Every call acts as the bearer token's user; no request names the caller.

mod parse;

use pulse_auth::{Identity, JwtValidator};
use pulse_proto::lists::v1::{self as proto, shopping_lists_server::ShoppingLists};
use tonic::{Request, Response, Status};

use crate::domain::{Connection, ItemFields, ItemPatch, ListChanges, NewList, Permission, UserRef};
use crate::item_queue::{self, ItemAddQueue};
use crate::presence_queue::PresenceQueue;
use crate::store::{Adding, Entering, Exiting, Store, Touching};
use crate::wire;

/// The tonic service. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct ListsService {
    store: Store,
    /// Enters and exits, coalesced into batches.
    presence: PresenceQueue,
    /// `AddItem`s, coalesced into batches.
    item_adds: ItemAddQueue,
    validator: JwtValidator,
}

type Reply<T> = Result<Response<T>, Status>;

impl ListsService {
    /// Starts the queues' workers, which end with the service.
    pub(crate) fn new(store: Store, validator: JwtValidator) -> Self {
        Self {
            presence: PresenceQueue::start(store.clone()),
            item_adds: item_queue::start(store.clone()),
            store,
            validator,
        }
    }

    fn identity<T>(&self, request: &Request<T>) -> Result<Identity, Status> {
        pulse_grpc::authenticate(&self.validator, request)
    }

    /// Called after the request is validated, so a refused request does not
    /// even refresh the caller's display name.
    async fn actor(&self, identity: &Identity) -> Result<UserRef, Status> {
        parse::token_name(identity)?;
        Ok(self.store.remember(identity).await?)
    }
}

#[tonic::async_trait]
impl ShoppingLists for ListsService {
    async fn create_list(
        &self,
        request: Request<proto::CreateListRequest>,
    ) -> Reply<proto::ShoppingList> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let new = NewList::new(&request.name, request.description)?;
        let list = self
            .store
            .create_list(&self.actor(&identity).await?, new)
            .await?;
        Ok(Response::new((&list).into()))
    }

    async fn get_list(
        &self,
        request: Request<proto::GetListRequest>,
    ) -> Reply<proto::ListSnapshot> {
        let identity = self.identity(&request)?;
        let list_id = parse::id("listId", &request.get_ref().list_id)?;
        let snapshot = self
            .store
            .get_list(&self.actor(&identity).await?, list_id)
            .await?;
        Ok(Response::new((&snapshot).into()))
    }

    async fn list_lists(
        &self,
        request: Request<proto::ListListsRequest>,
    ) -> Reply<proto::ListListsResponse> {
        let identity = self.identity(&request)?;
        let include_archived = request.get_ref().include_archived;
        let lists = self
            .store
            .list_lists(&self.actor(&identity).await?, include_archived)
            .await?;
        Ok(Response::new(proto::ListListsResponse {
            lists: lists.iter().map(Into::into).collect(),
        }))
    }

    async fn update_list(
        &self,
        request: Request<proto::UpdateListRequest>,
    ) -> Reply<proto::ShoppingList> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let list_id = parse::id("listId", &request.list_id)?;
        let changes = ListChanges::new(request.name.as_deref(), request.description)?;
        let list = self
            .store
            .update_list(&self.actor(&identity).await?, list_id, changes)
            .await?;
        Ok(Response::new((&list).into()))
    }

    async fn archive_list(
        &self,
        request: Request<proto::ArchiveListRequest>,
    ) -> Reply<proto::ShoppingList> {
        let identity = self.identity(&request)?;
        let list_id = parse::id("listId", &request.get_ref().list_id)?;
        let archived = request.get_ref().is_archived.unwrap_or(true);
        let list = self
            .store
            .archive_list(&self.actor(&identity).await?, list_id, archived)
            .await?;
        Ok(Response::new((&list).into()))
    }

    async fn add_item(&self, request: Request<proto::AddItemRequest>) -> Reply<proto::Item> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let list_id = parse::id("listId", &request.list_id)?;
        let fields = ItemFields::new(parse::new_item(request.item)?)?;
        let adding = Adding {
            actor: self.actor(&identity).await?,
            list_id,
            fields,
        };
        let item = self.item_adds.call(adding).await?;
        Ok(Response::new((&item).into()))
    }

    async fn update_item(&self, request: Request<proto::UpdateItemRequest>) -> Reply<proto::Item> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let list_id = parse::id("listId", &request.list_id)?;
        let item_id = parse::id("itemId", &request.item_id)?;
        let patch = ItemPatch::new(parse::patch(request.patch))?;
        let item = self
            .store
            .update_item(&self.actor(&identity).await?, list_id, item_id, patch)
            .await?;
        Ok(Response::new((&item).into()))
    }

    async fn delete_item(
        &self,
        request: Request<proto::DeleteItemRequest>,
    ) -> Reply<proto::DeleteItemResponse> {
        let identity = self.identity(&request)?;
        let list_id = parse::id("listId", &request.get_ref().list_id)?;
        let item_id = parse::id("itemId", &request.get_ref().item_id)?;
        self.store
            .delete_item(&self.actor(&identity).await?, list_id, item_id)
            .await?;
        Ok(Response::new(proto::DeleteItemResponse {
            item_id: item_id.to_string(),
        }))
    }

    async fn set_item_purchased(
        &self,
        request: Request<proto::SetItemPurchasedRequest>,
    ) -> Reply<proto::Item> {
        let identity = self.identity(&request)?;
        let list_id = parse::id("listId", &request.get_ref().list_id)?;
        let item_id = parse::id("itemId", &request.get_ref().item_id)?;
        let purchased = request.get_ref().is_purchased;
        let item = self
            .store
            .set_item_purchased(&self.actor(&identity).await?, list_id, item_id, purchased)
            .await?;
        Ok(Response::new((&item).into()))
    }

    async fn reorder_items(
        &self,
        request: Request<proto::ReorderItemsRequest>,
    ) -> Reply<proto::ReorderItemsResponse> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let list_id = parse::id("listId", &request.list_id)?;
        let positions = parse::item_positions(request.item_positions)?;
        let positions = self
            .store
            .reorder_items(&self.actor(&identity).await?, list_id, positions)
            .await?;
        Ok(Response::new(proto::ReorderItemsResponse {
            item_positions: wire::item_positions(positions.as_slice()),
        }))
    }

    async fn share_list(
        &self,
        request: Request<proto::ShareListRequest>,
    ) -> Reply<proto::Collaborator> {
        let identity = self.identity(&request)?;
        let (list_id, share) = parse::share(request.into_inner())?;
        let collaborator = self
            .store
            .share_list(&self.actor(&identity).await?, list_id, share)
            .await?;
        Ok(Response::new((&collaborator).into()))
    }

    async fn remove_collaborator(
        &self,
        request: Request<proto::RemoveCollaboratorRequest>,
    ) -> Reply<proto::RemoveCollaboratorResponse> {
        let identity = self.identity(&request)?;
        let list_id = parse::id("listId", &request.get_ref().list_id)?;
        let user_id = parse::id("userId", &request.get_ref().user_id)?;
        self.store
            .remove_collaborator(&self.actor(&identity).await?, list_id, user_id)
            .await?;
        Ok(Response::new(proto::RemoveCollaboratorResponse {
            user_id: user_id.to_string(),
        }))
    }

    async fn change_collaborator_permission(
        &self,
        request: Request<proto::ChangeCollaboratorPermissionRequest>,
    ) -> Reply<proto::Collaborator> {
        let identity = self.identity(&request)?;
        let list_id = parse::id("listId", &request.get_ref().list_id)?;
        let user_id = parse::id("userId", &request.get_ref().user_id)?;
        let permission = Permission::assignable(&request.get_ref().permission)?;
        let collaborator = self
            .store
            .change_collaborator_permission(
                &self.actor(&identity).await?,
                list_id,
                user_id,
                permission,
            )
            .await?;
        Ok(Response::new((&collaborator).into()))
    }

    async fn check_access(
        &self,
        request: Request<proto::CheckAccessRequest>,
    ) -> Reply<proto::CheckAccessResponse> {
        let identity = self.identity(&request)?;
        let list_id = parse::id("listId", &request.get_ref().list_id)?;
        // A read only: remembering the caller's name here (an upsert that
        // locks the user's row and commits) made a crowd of one user's tabs
        // joining a list queue up behind that one row. Presence remembers it.
        parse::token_name(&identity)?;
        let permission = self.store.check_access(identity.user_id, list_id).await?;
        Ok(Response::new(proto::CheckAccessResponse {
            permission: permission.as_str().to_owned(),
        }))
    }

    async fn enter_list(
        &self,
        request: Request<proto::PresenceRequest>,
    ) -> Reply<proto::PresenceSnapshot> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let list_id = parse::id("listId", &request.list_id)?;
        let connection = Connection::new(&request.connection_id, request.avatar_url)?;
        // The batch remembers the caller's name (see `Entering`).
        parse::token_name(&identity)?;
        let active = self
            .presence
            .enter(Entering {
                actor: UserRef {
                    id: identity.user_id,
                    display_name: identity.name,
                },
                list_id,
                connection,
            })
            .await?;
        Ok(Response::new(proto::PresenceSnapshot {
            active_users: active.iter().map(Into::into).collect(),
        }))
    }

    async fn touch_presence(
        &self,
        request: Request<proto::PresenceRequest>,
    ) -> Reply<proto::TouchPresenceResponse> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let list_id = parse::id("listId", &request.list_id)?;
        let connection = Connection::new(&request.connection_id, None)?;
        // A keep-alive names nobody: the caller's name is not needed.
        parse::token_name(&identity)?;
        self.presence
            .touch(Touching {
                user_id: identity.user_id,
                list_id,
                connection_id: connection.id,
            })
            .await?;
        Ok(Response::new(proto::TouchPresenceResponse {}))
    }

    async fn exit_list(
        &self,
        request: Request<proto::PresenceRequest>,
    ) -> Reply<proto::ExitListResponse> {
        let identity = self.identity(&request)?;
        let request = request.into_inner();
        let list_id = parse::id("listId", &request.list_id)?;
        let connection = Connection::new(&request.connection_id, None)?;
        // Exiting names nobody: `UserLeft` takes the name the user entered with.
        parse::token_name(&identity)?;
        self.presence
            .exit(Exiting {
                actor: UserRef {
                    id: identity.user_id,
                    display_name: identity.name,
                },
                list_id,
                connection_id: connection.id,
            })
            .await?;
        Ok(Response::new(proto::ExitListResponse {}))
    }
}
