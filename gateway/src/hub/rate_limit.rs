//! How fast a client may call hub methods. Two limits, both `governor` limiters (GCRA token
//! buckets), so there is one implementation:
//!
//! * every connection has a bucket for all its invocations, so one socket cannot keep a hub
//!   task and the domain services busy;
//! * every user or virtual key has a bucket per command that writes, shared by all their
//!   connections on this gateway, so opening more tabs does not buy more writes.
//!
//! An invocation over either limit completes with a hub error and changes nothing; the
//! connection stays open, so a client that slows down simply carries on.

use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use super::{HubError, HubKind};

/// What a client over a rate limit is told.
pub const SLOW_DOWN: &str = "Too many requests; slow down.";

/// Every this many write checks, buckets back at full burst are dropped, so keys of users who
/// stopped writing do not pile up.
const PRUNE_EVERY: u64 = 1024;

/// The configured rates.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitConfig {
    /// Invocations per second one connection may sustain.
    pub invocations_per_second: NonZeroU32,
    /// Invocations one connection may make at once after a quiet spell.
    pub invocation_burst: NonZeroU32,
    /// Calls per second of one write command by one user or key.
    pub writes_per_second: NonZeroU32,
    /// Calls of one write command by one user or key at once after a quiet spell.
    pub write_burst: NonZeroU32,
}

/// One connection's invocation bucket (see [`RateLimits::connection_budget`]).
pub type ConnectionBudget = DefaultDirectRateLimiter;

/// The gateway's rate limits, shared by every connection.
#[derive(Debug)]
pub struct RateLimits {
    invocations: Quota,
    /// Keyed by the user or virtual key id and the command's name.
    writes: DefaultKeyedRateLimiter<(Uuid, &'static str)>,
    write_checks: AtomicU64,
}

impl RateLimits {
    pub fn new(config: RateLimitConfig) -> Self {
        let writes = Quota::per_second(config.writes_per_second).allow_burst(config.write_burst);
        Self {
            invocations: Quota::per_second(config.invocations_per_second)
                .allow_burst(config.invocation_burst),
            writes: RateLimiter::keyed(writes),
            write_checks: AtomicU64::new(0),
        }
    }

    /// A fresh bucket for a new connection.
    pub fn connection_budget(&self) -> ConnectionBudget {
        RateLimiter::direct(self.invocations)
    }

    /// Whether `principal` may invoke `target` on `hub` now; takes a token from the
    /// connection's bucket and, for a write command, from the principal's bucket for it.
    pub fn admit(
        &self,
        budget: &ConnectionBudget,
        hub: HubKind,
        principal: Uuid,
        target: &str,
    ) -> Result<(), HubError> {
        budget
            .check()
            .map_err(|_| HubError::Refused(SLOW_DOWN.into()))?;
        let Some(command) = write_command(hub, target) else {
            return Ok(());
        };
        if self.write_checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.writes.retain_recent();
            self.writes.shrink_to_fit();
        }
        self.writes
            .check_key(&(principal, command))
            .map_err(|_| HubError::Refused(SLOW_DOWN.into()))
    }
}

/// The commands that write, per hub, by their canonical name: only these get a bucket per user,
/// so the limiter's keys are bounded by the users, not by the names clients make up.
fn write_command(hub: HubKind, target: &str) -> Option<&'static str> {
    hub.write_commands()
        .iter()
        .copied()
        .find(|command| command.eq_ignore_ascii_case(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(invocations: u32, writes: u32) -> RateLimits {
        let rate = |n| NonZeroU32::new(n).expect("non-zero");
        RateLimits::new(RateLimitConfig {
            invocations_per_second: rate(1),
            invocation_burst: rate(invocations),
            writes_per_second: rate(1),
            write_burst: rate(writes),
        })
    }

    #[test]
    fn a_connection_over_its_burst_is_told_to_slow_down() {
        let limits = limits(3, 100);
        let budget = limits.connection_budget();
        let user = Uuid::new_v4();
        for _ in 0..3 {
            assert!(limits
                .admit(&budget, crate::hub::shopping_list::HUB, user, "GetList")
                .is_ok());
        }
        let refused = limits.admit(&budget, crate::hub::shopping_list::HUB, user, "GetList");
        assert!(matches!(refused, Err(HubError::Refused(text)) if text == SLOW_DOWN));
        // Another connection has its own bucket.
        let fresh = limits.connection_budget();
        assert!(limits
            .admit(&fresh, crate::hub::shopping_list::HUB, user, "GetList")
            .is_ok());
    }

    #[test]
    fn writes_are_limited_per_user_and_command_across_connections() {
        let limits = limits(100, 2);
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let admit = |user, target: &str| {
            limits
                .admit(
                    &limits.connection_budget(),
                    crate::hub::shopping_list::HUB,
                    user,
                    target,
                )
                .is_ok()
        };
        assert!(admit(ann, "AddItem") && admit(ann, "additem"));
        assert!(
            !admit(ann, "ADDITEM"),
            "a third AddItem on a new connection"
        );
        assert!(
            admit(ann, "DeleteItem"),
            "another command has its own bucket"
        );
        assert!(admit(bob, "AddItem"), "another user has their own bucket");
        assert!(admit(ann, "GetList"), "reads are not write-limited");
    }
}
