//! The boundary of a per-connection task: a panic in one connection's handling ends that
//! connection, never its cleanup.
//!
//! A panic unwinding out of a connection's task would skip everything after the panicking call —
//! leaving its groups, deregistering it — and leave a phantom connection behind (issue 11 found
//! hundreds after an overflow). So each connection runs its work through [`catch_panic`], logs
//! the defect with the connection's id, and then cleans up and closes as for any other error.

use std::{any::Any, future::Future, panic::AssertUnwindSafe};

use futures::FutureExt;

/// The work of a connection panicked; what it held is left to the caller's cleanup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Panicked;

/// Runs `work` to completion, or catches its panic and logs it for `conn_id`.
///
/// Unwind safety is asserted: after a panic the caller only runs its cleanup, which must not rely
/// on what the interrupted work was in the middle of changing (leaving a group and deregistering
/// are idempotent).
///
/// A plain function rather than an `async fn`: an `async fn` would keep `work` in its arguments
/// and again in the future it awaits, doubling the size of every connection's future.
pub(crate) fn catch_panic<F: Future>(
    conn_id: impl AsRef<str>,
    work: F,
) -> impl Future<Output = Result<F::Output, Panicked>> {
    AssertUnwindSafe(work).catch_unwind().map(move |outcome| {
        outcome.map_err(|payload| {
            tracing::error!(
                conn_id = conn_id.as_ref(),
                panic = message(payload.as_ref()),
                "connection task panicked; cleaning up and closing it"
            );
            Panicked
        })
    })
}

/// The panic's message, when it has one (`panic!` with a literal or a format string).
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use pulse_proto::lists::LIST;
    use std::sync::Arc;

    use pulse_bus::{Bus, Namespace};
    use tokio_util::sync::CancellationToken;
    use uuid::Uuid;

    use super::*;
    use crate::node::{outbound, EncodedEvent, EventEncoder, Frame, Member, Node, NodeStats};

    struct NoEncoder;

    impl EventEncoder for NoEncoder {
        fn key(&self) -> &'static str {
            "none"
        }

        fn encode(&self, _: EncodedEvent<'_>) -> Option<Frame> {
            None
        }
    }

    #[tokio::test]
    async fn work_that_completes_is_returned() {
        assert_eq!(catch_panic("c1", async { 7 }).await, Ok(7));
    }

    #[test]
    fn a_panics_message_is_logged_whatever_its_form() {
        let literal: Box<dyn Any + Send> = Box::new("overflow");
        let formatted: Box<dyn Any + Send> = Box::new(format!("at {}", 3));
        let other: Box<dyn Any + Send> = Box::new(3_u8);
        assert_eq!(message(literal.as_ref()), "overflow");
        assert_eq!(message(formatted.as_ref()), "at 3");
        assert_eq!(message(other.as_ref()), "(no message)");
    }

    /// As a session does: join groups, panic in the middle of handling, then the cleanup that
    /// follows the boundary leaves every group, so the node holds nothing for the connection.
    #[tokio::test]
    async fn a_panic_in_the_middle_of_a_connection_still_lets_it_leave_its_groups() {
        let node = Node::new(
            Bus::memory(Namespace::new("boundary").expect("namespace")),
            CancellationToken::new(),
            std::time::Duration::from_millis(500),
        );
        let (queue, _frames) = outbound(1024);
        let member = Member::new(Arc::from("c1"), Uuid::new_v4(), Arc::new(NoEncoder), queue);
        let topics = [LIST.topic(Uuid::new_v4()), LIST.topic(Uuid::new_v4())];
        let mut joined = Vec::new();
        let work = async {
            for topic in topics {
                node.join(topic, member.clone()).await.expect("join");
                joined.push(topic);
            }
            panic!("attempt to add with overflow");
        };
        assert_eq!(catch_panic("c1", work).await, Err(Panicked));
        assert_eq!(
            node.stats(),
            NodeStats {
                groups: 2,
                members: 2
            }
        );
        for topic in &joined {
            node.leave(topic, &member.connection_id);
        }
        assert_eq!(
            node.stats(),
            NodeStats {
                groups: 0,
                members: 0
            }
        );
    }
}
