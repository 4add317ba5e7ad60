//! What the presence tests of every service that tracks who is present
//! (`pulse_presence`) check a crowd with: the answers its calls got when they
//! arrived at once, and the users its presence notices name.

use tonic::{Code, Status};

use crate::{Events, TestUser};

/// The sequence of a presence notice (a user joining or leaving): none,
/// notices travel outside the group's numbered stream.
pub const NOTICE: u64 = 0;

/// Each answer's refusal code in the calls' order, `None` for an answer
/// that was accepted.
pub fn refusal_codes<T>(answers: &[Result<T, Status>]) -> Vec<Option<Code>> {
    answers
        .iter()
        .map(|answer| answer.as_ref().err().map(Status::code))
        .collect()
}

/// The users' ids, sorted: what the notices of a crowd that arrived at once
/// are compared with, in whatever order they came.
pub fn sorted_ids(users: &[TestUser]) -> Vec<String> {
    let mut ids: Vec<String> = users.iter().map(|user| user.id.to_string()).collect();
    ids.sort();
    ids
}

impl Events {
    /// The users the next `count` presence notices name (`user` reads one
    /// from its event), sorted.
    pub async fn expect_notices(
        &mut self,
        count: usize,
        user: impl Fn(pulse_proto::events::v1::Event) -> String,
    ) -> Vec<String> {
        let mut users = Vec::new();
        for _ in 0..count {
            users.push(user(self.expect(NOTICE).await));
        }
        users.sort();
        users
    }
}
