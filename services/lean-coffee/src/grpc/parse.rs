//! Request fields into domain values. Each failure is
//! `LeanCoffeeError::Invalid` naming the field as the client spelled it
//! (camelCase), so the message can be shown unchanged.

use pulse_auth::Identity;
use pulse_proto::leancoffee::v1 as proto;
use uuid::Uuid;

use crate::domain::{Actor, NewTopic, TopicPatch};
use crate::LeanCoffeeError;

/// A UUID field: `sessionId is not a UUID`.
pub(super) fn id(field: &str, value: &str) -> Result<Uuid, LeanCoffeeError> {
    Uuid::parse_str(value.trim())
        .map_err(|_| LeanCoffeeError::Invalid(format!("{field} is not a UUID")))
}

/// The caller: id and display name from the validated token only. The name
/// is stored with what the caller does (participant rows, topic authors), so
/// it must be text the database can hold, like any field of a request.
pub(super) fn actor(identity: &Identity) -> Result<Actor, LeanCoffeeError> {
    let display_name = identity.name.trim();
    pulse_service::text::reject_nul("token name", display_name)?;
    Ok(Actor {
        id: identity.user_id,
        display_name: display_name.to_owned(),
    })
}

pub(super) fn new_topic(topic: Option<proto::NewTopic>) -> Result<NewTopic, LeanCoffeeError> {
    let topic = topic.ok_or_else(|| LeanCoffeeError::Invalid("topic is required".into()))?;
    NewTopic::new(&topic.title, topic.description)
}

/// A missing patch is an empty one, which is refused as changing nothing.
pub(super) fn patch(patch: Option<proto::TopicPatch>) -> Result<TopicPatch, LeanCoffeeError> {
    let patch = patch.unwrap_or_default();
    TopicPatch::new(patch.title.as_deref(), patch.description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_session_id_names_the_field() {
        assert_eq!(
            pulse_testkit::invalid_message(id("sessionId", "nope")),
            "sessionId is not a UUID"
        );
    }

    #[test]
    fn a_topic_is_required_to_add_one() {
        assert!(matches!(
            new_topic(None),
            Err(LeanCoffeeError::Invalid(message)) if message == "topic is required"
        ));
    }
}
