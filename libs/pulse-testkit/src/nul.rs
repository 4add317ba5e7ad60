//! The input test every service runs: a table of calls, each putting text
//! PostgreSQL cannot store into one field, and each refused naming it. The
//! service's test keeps only its table and what "nothing changed" means for
//! it.

use std::future::Future;

use futures::future::BoxFuture;
use tonic::{Code, Response, Status};

use crate::assert_refused;

/// Text PostgreSQL cannot store: it holds every character but NUL.
const NUL_TEXT: &str = "free\0range";

/// Calls that must each be refused with `INVALID_ARGUMENT` and the message
/// "`{field}` cannot contain NUL characters", one row per RPC and field.
/// Rows run one after the other in the order added, each on its own clone
/// of a client, so a table can mix clients of different callers.
#[must_use = "a table asserts nothing until `assert_refused` runs it"]
#[derive(Default)]
pub struct NulInputs<'a> {
    rows: Vec<(&'static str, BoxFuture<'a, Result<(), Status>>)>,
}

impl<'a> NulInputs<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a row: `send` makes one call with a clone of `client`, putting
    /// the text it is given (`"free\0range"`) where `field` goes, or
    /// ignoring it where the NUL is elsewhere (the caller's token).
    pub fn row<C, T, Fut>(
        mut self,
        field: &'static str,
        client: &C,
        send: impl FnOnce(C, String) -> Fut,
    ) -> Self
    where
        C: Clone,
        T: 'a,
        Fut: Future<Output = Result<Response<T>, Status>> + Send + 'a,
    {
        let call = send(client.clone(), NUL_TEXT.to_owned());
        self.rows
            .push((field, Box::pin(async move { call.await.map(drop) })));
        self
    }

    /// Sends every row, in order, asserting each refusal's code and message.
    /// What the service must not have changed is for the caller to assert
    /// afterwards.
    pub async fn assert_refused(self) {
        for (field, call) in self.rows {
            let status = call.await.expect_err(field);
            let message = format!("{field} cannot contain NUL characters");
            assert_refused(&status, Code::InvalidArgument, &message);
        }
    }
}
