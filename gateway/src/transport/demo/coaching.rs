//! `POST /demo/coach {clientId}` with a trainer's demo token: the trainer invites the client
//! and the client accepts at once, with goal edits allowed, so the coaching screen can assign
//! goals. In production the client accepts in their own app; here the demo, which can sign
//! for anyone anyway, signs the acceptance for them. Both calls go through the coaching
//! service's gRPC API, so both sides get their `RelationshipUpdated`.

use std::time::Duration;

use axum::{
    extract::{rejection::JsonRejection, State},
    http::{header, HeaderMap},
    Json,
};
use pulse_auth::bearer_from_header;
use pulse_proto::coaching::v1::{
    coaching_client::CoachingClient, InviteClientRequest, RelationshipRequest,
};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Demo, DemoError};
use crate::hub::{chat::COACHING, OnBehalf};

/// The client's token signs one acceptance.
const ACCEPTANCE_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Coach {
    client_id: Uuid,
}

pub(super) async fn coach(
    State(demo): State<Demo>,
    headers: HeaderMap,
    body: Result<Json<Coach>, JsonRejection>,
) -> Result<Json<Value>, DemoError> {
    let Json(Coach { client_id }) = body?;
    let trainer_token = bearer(&headers)?;
    let trainer = demo
        .validator
        .validate(trainer_token)
        .map_err(|_| DemoError::Unauthenticated)?;
    if !trainer.has_role("trainer") {
        return Err(DemoError::Forbidden(
            "only a trainer coaches; sign in as a trainer",
        ));
    }
    let client_token = demo.mint(client_id, "Client", Vec::new(), ACCEPTANCE_LIFETIME)?;
    let as_trainer = OnBehalf::new(trainer_token).ok_or(DemoError::Unauthenticated)?;
    let as_client = OnBehalf::new(&client_token).ok_or(DemoError::Unauthenticated)?;
    let mut coaching = CoachingClient::new(demo.channels.get(&COACHING)?);
    let invited = coaching
        .invite_client(as_trainer.request(InviteClientRequest {
            client_id: client_id.to_string(),
            can_edit_goals: true,
        }))
        .await?
        .into_inner();
    let accepted = coaching
        .accept_invitation(as_client.request(RelationshipRequest {
            relationship_id: invited.id,
        }))
        .await?
        .into_inner();
    Ok(Json(json!({
        "id": accepted.id,
        "trainerId": accepted.trainer_id,
        "clientId": accepted.client_id,
        "status": accepted.status,
        "canEditGoals": accepted.can_edit_goals,
    })))
}

/// The caller's bearer token.
pub(super) fn bearer(headers: &HeaderMap) -> Result<&str, DemoError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer_from_header)
        .ok_or(DemoError::Unauthenticated)
}
