//! The Lean Coffee events' facts: none ends anyone's access (a session's id
//! is its invitation).

use super::v1::{
    ParticipantJoined, ParticipantLeft, SessionStatusChanged, TopicAdded, TopicDeleted,
    TopicEdited, TopicStatusChanged, VoteCast, VoteRemoved,
};
use crate::EventFacts;

impl EventFacts for ParticipantJoined {}
impl EventFacts for ParticipantLeft {}
impl EventFacts for TopicAdded {}
impl EventFacts for TopicEdited {}
impl EventFacts for TopicDeleted {}
impl EventFacts for TopicStatusChanged {}
impl EventFacts for VoteCast {}
impl EventFacts for VoteRemoved {}
impl EventFacts for SessionStatusChanged {}
