//! Connections this gateway negotiated and another one started, remembered for a short while:
//! long enough for the subscription the other gateway opened for the connection to become known
//! on every server of a NATS cluster, so a gateway asking here meanwhile is told to ask the
//! connection again, not that it does not exist.

use std::{
    collections::{HashSet, VecDeque},
    sync::{Mutex, MutexGuard},
    time::{Duration, Instant},
};

/// How long a claimed connection is remembered. Interest spreads across a cluster in
/// milliseconds; this is a generous bound.
const REMEMBERED_FOR: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub(super) struct Moved(Mutex<Remembered>);

/// The tokens, and the same in the order they came, to forget the oldest first.
#[derive(Debug, Default)]
struct Remembered {
    tokens: HashSet<String>,
    by_age: VecDeque<(Instant, String)>,
}

impl Moved {
    fn remembered(&self) -> MutexGuard<'_, Remembered> {
        let mut remembered = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Forgets what is too old: the table holds the claims of the last few seconds only.
        while let Some((at, _)) = remembered.by_age.front() {
            if at.elapsed() < REMEMBERED_FOR {
                break;
            }
            if let Some((_, token)) = remembered.by_age.pop_front() {
                remembered.tokens.remove(&token);
            }
        }
        remembered
    }

    pub fn insert(&self, token: &str) {
        let mut remembered = self.remembered();
        if remembered.tokens.insert(token.to_owned()) {
            remembered
                .by_age
                .push_back((Instant::now(), token.to_owned()));
        }
    }

    pub fn contains(&self, token: &str) -> bool {
        self.remembered().tokens.contains(token)
    }
}
