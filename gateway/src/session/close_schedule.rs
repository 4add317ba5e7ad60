//! When each connection closes while the gateway drains: spread out, so the
//! clients of a gateway being rolled do not all reconnect to the others in
//! the same millisecond. Connections keep delivering events until their
//! turn; each then closes with `allowReconnect: true`.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        OnceLock,
    },
    time::Duration,
};

use tokio::time::Instant;

/// The closes are never further apart than this: a few connections close
/// within milliseconds, whatever the drain period.
const MAX_GAP: Duration = Duration::from_millis(1);

/// The turns of the connections open when the drain started, evenly spread
/// over the drain period (or one millisecond apart, if that is sooner).
#[derive(Debug)]
pub struct CloseSchedule {
    period: Duration,
    /// When the drain started, and how many connections were open then.
    started: OnceLock<(Instant, usize)>,
    /// Turns handed out so far.
    taken: AtomicUsize,
}

impl CloseSchedule {
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            started: OnceLock::new(),
            taken: AtomicUsize::new(0),
        }
    }

    /// Starts the drain of `open` connections (once; later calls change
    /// nothing).
    pub fn start(&self, open: usize) {
        let _ = self.started.set((Instant::now(), open));
    }

    /// The next connection's time to close. A connection that asks after
    /// every one open at the start had its turn closes with the last.
    pub fn turn(&self) -> Instant {
        let (start, open) = *self.started.get_or_init(|| (Instant::now(), 1));
        let open = u32::try_from(open.max(1)).unwrap_or(u32::MAX);
        let gap = (self.period / open).min(MAX_GAP);
        let taken = self.taken.fetch_add(1, Ordering::Relaxed);
        let rank = u32::try_from(taken).unwrap_or(u32::MAX).min(open - 1);
        start + gap.saturating_mul(rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(schedule: &CloseSchedule, count: usize) -> Vec<Duration> {
        let start = schedule.started.get().expect("started").0;
        (0..count).map(|_| schedule.turn() - start).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn many_connections_close_evenly_over_the_period() {
        let schedule = CloseSchedule::new(Duration::from_secs(10));
        schedule.start(100_000);
        let turns = offsets(&schedule, 100_000);
        assert_eq!(turns[0], Duration::ZERO, "the first closes at once");
        assert_eq!(turns[1], Duration::from_micros(100));
        assert_eq!(turns[99_999], Duration::from_micros(9_999_900));
        assert!(turns.windows(2).all(|pair| pair[0] <= pair[1]));
    }

    #[tokio::test(start_paused = true)]
    async fn few_connections_close_a_millisecond_apart_and_latecomers_with_the_last() {
        let schedule = CloseSchedule::new(Duration::from_secs(10));
        schedule.start(3);
        let turns = offsets(&schedule, 5);
        let ms = Duration::from_millis;
        assert_eq!(turns, [ms(0), ms(1), ms(2), ms(2), ms(2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_period_closes_everything_at_once() {
        let schedule = CloseSchedule::new(Duration::ZERO);
        schedule.start(1_000);
        assert!(offsets(&schedule, 1_000).iter().all(Duration::is_zero));
    }
}
