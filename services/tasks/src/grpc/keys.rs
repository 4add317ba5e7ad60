//! `VirtualKeys`: admins issue, list, revoke and budget keys with the master
//! key; gateways check a presented key with `AuthenticateKey`.

use pulse_proto::tasks::v1::{self as proto, virtual_keys_server::VirtualKeys};
use tonic::{Request, Response};

use super::{parse, Reply, TasksService};
use crate::domain::{budget, NewVirtualKey};

#[tonic::async_trait]
impl VirtualKeys for TasksService {
    async fn create_virtual_key(
        &self,
        request: Request<proto::CreateVirtualKeyRequest>,
    ) -> Reply<proto::CreatedVirtualKey> {
        self.require_master_key(&request)?;
        let request = request.into_inner();
        let new = NewVirtualKey::new(&request.name, request.budget)?;
        let (key, secret) = self.store.create_key(new).await?;
        Ok(Response::new(proto::CreatedVirtualKey {
            key: Some((&key).into()),
            secret: secret.expose().to_owned(),
        }))
    }

    async fn list_virtual_keys(
        &self,
        request: Request<proto::ListVirtualKeysRequest>,
    ) -> Reply<proto::ListVirtualKeysResponse> {
        self.require_master_key(&request)?;
        let keys = self.store.list_keys().await?;
        Ok(Response::new(proto::ListVirtualKeysResponse {
            keys: keys.iter().map(Into::into).collect(),
        }))
    }

    async fn revoke_virtual_key(
        &self,
        request: Request<proto::VirtualKeyRequest>,
    ) -> Reply<proto::VirtualKey> {
        self.require_master_key(&request)?;
        let id = parse::id("virtualKeyId", &request.get_ref().virtual_key_id)?;
        let key = self.store.revoke_key(id).await?;
        Ok(Response::new((&key).into()))
    }

    async fn set_budget(
        &self,
        request: Request<proto::SetBudgetRequest>,
    ) -> Reply<proto::VirtualKey> {
        self.require_master_key(&request)?;
        let id = parse::id("virtualKeyId", &request.get_ref().virtual_key_id)?;
        let budget = budget(request.get_ref().budget)?;
        let key = self.store.set_budget(id, budget).await?;
        Ok(Response::new((&key).into()))
    }

    async fn authenticate_key(
        &self,
        request: Request<proto::AuthenticateKeyRequest>,
    ) -> Reply<proto::VirtualKey> {
        let key = self.virtual_key(&request).await?;
        Ok(Response::new((&key).into()))
    }
}
