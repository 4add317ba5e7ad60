//! When a connection pings its client and when the client has timed out, as a state machine
//! over instants: the connection loop reports what happened and sleeps until [`KeepAlive::due_at`];
//! the rules themselves are tested here on paused time.
//!
//! The rules are ASP.NET Core's: a Ping every keep-alive interval (none on long polling, which
//! keeps itself alive), and a client silent for the client timeout is closed — counted only once
//! it has pinged, since a client that never pings runs no timeout of its own either.

use std::time::Duration;

use tokio::time::Instant;

/// What the connection must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    /// Send a Ping.
    Ping,
    /// Close the connection: the client has been silent for the client timeout.
    ClientTimedOut,
}

/// The keep-alive state of one connection.
#[derive(Debug)]
pub(super) struct KeepAlive {
    /// `None` where the transport keeps the connection alive itself.
    interval: Option<Duration>,
    client_timeout: Duration,
    next_ping: Instant,
    last_received: Instant,
    /// The client timeout applies only once the client has pinged, as in .NET.
    client_pinged: bool,
}

impl KeepAlive {
    /// Starts at the end of the handshake: the first Ping is due one interval later, not at once.
    pub(super) fn new(interval: Option<Duration>, client_timeout: Duration, now: Instant) -> Self {
        Self {
            interval,
            client_timeout,
            next_ping: now + interval.unwrap_or_default(),
            last_received: now,
            client_pinged: false,
        }
    }

    /// Bytes (or a replacement socket) arrived from the client: it is alive.
    pub(super) fn received(&mut self, now: Instant) {
        self.last_received = now;
    }

    /// The client sent a Ping: from now on its silence counts.
    pub(super) fn client_pinged(&mut self) {
        self.client_pinged = true;
    }

    /// The next instant something may be due; `None` when nothing ever will be.
    pub(super) fn due_at(&self) -> Option<Instant> {
        let ping = self.interval.map(|_| self.next_ping);
        let timeout = self
            .client_pinged
            .then(|| self.last_received + self.client_timeout);
        match (ping, timeout) {
            (Some(ping), Some(timeout)) => Some(ping.min(timeout)),
            (ping, timeout) => ping.or(timeout),
        }
    }

    /// What is due at `now`. A Ping reported here counts as sent: the next one is due an interval
    /// after it, however late this was called (a busy loop delays pings rather than bunching
    /// them). A timeout wins over a Ping due at the same time.
    pub(super) fn tick(&mut self, now: Instant) -> Option<Due> {
        if self.client_pinged && now >= self.last_received + self.client_timeout {
            return Some(Due::ClientTimedOut);
        }
        let interval = self.interval?;
        if now < self.next_ping {
            return None;
        }
        self.next_ping = now + interval;
        Some(Due::Ping)
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::advance;

    use super::*;

    const INTERVAL: Duration = Duration::from_secs(15);
    const TIMEOUT: Duration = Duration::from_secs(30);
    const MOMENT: Duration = Duration::from_millis(1);

    /// Advances paused time to the machine's next due instant and ticks there.
    async fn next(keep_alive: &mut KeepAlive) -> (Duration, Option<Due>) {
        let start = Instant::now();
        let due_at = keep_alive.due_at().expect("something is due");
        advance(due_at - start).await;
        (Instant::now() - start, keep_alive.tick(Instant::now()))
    }

    #[tokio::test(start_paused = true)]
    async fn pings_one_interval_after_the_handshake_and_every_interval_after() {
        let mut keep_alive = KeepAlive::new(Some(INTERVAL), TIMEOUT, Instant::now());
        advance(INTERVAL - MOMENT).await;
        assert_eq!(
            keep_alive.tick(Instant::now()),
            None,
            "not before the interval"
        );
        advance(MOMENT).await;
        assert_eq!(keep_alive.tick(Instant::now()), Some(Due::Ping));
        assert_eq!(
            keep_alive.tick(Instant::now()),
            None,
            "one Ping per interval"
        );
        assert_eq!(next(&mut keep_alive).await, (INTERVAL, Some(Due::Ping)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_tick_pings_once_and_the_next_ping_follows_an_interval_later() {
        let mut keep_alive = KeepAlive::new(Some(INTERVAL), TIMEOUT, Instant::now());
        advance(INTERVAL * 3).await;
        assert_eq!(keep_alive.tick(Instant::now()), Some(Due::Ping));
        assert_eq!(keep_alive.tick(Instant::now()), None);
        assert_eq!(next(&mut keep_alive).await, (INTERVAL, Some(Due::Ping)));
    }

    #[tokio::test(start_paused = true)]
    async fn without_an_interval_nothing_is_ever_due_until_the_client_pings() {
        let mut keep_alive = KeepAlive::new(None, TIMEOUT, Instant::now());
        assert_eq!(keep_alive.due_at(), None);
        advance(TIMEOUT * 10).await;
        assert_eq!(keep_alive.tick(Instant::now()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_pinged_never_times_out() {
        let mut keep_alive = KeepAlive::new(Some(INTERVAL), TIMEOUT, Instant::now());
        for _ in 0..10 {
            assert_eq!(next(&mut keep_alive).await, (INTERVAL, Some(Due::Ping)));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_silent_for_the_timeout_after_pinging_times_out() {
        let start = Instant::now();
        let mut keep_alive = KeepAlive::new(None, TIMEOUT, start);
        keep_alive.client_pinged();
        assert_eq!(keep_alive.due_at(), Some(start + TIMEOUT));
        advance(TIMEOUT - MOMENT).await;
        assert_eq!(keep_alive.tick(Instant::now()), None);
        advance(MOMENT).await;
        assert_eq!(keep_alive.tick(Instant::now()), Some(Due::ClientTimedOut));
    }

    #[tokio::test(start_paused = true)]
    async fn what_the_client_sends_postpones_its_timeout() {
        let mut keep_alive = KeepAlive::new(None, TIMEOUT, Instant::now());
        keep_alive.client_pinged();
        advance(TIMEOUT - MOMENT).await;
        keep_alive.received(Instant::now());
        assert_eq!(
            next(&mut keep_alive).await,
            (TIMEOUT, Some(Due::ClientTimedOut))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pings_continue_while_the_client_talks_and_its_timeout_wins_a_tie() {
        let mut keep_alive = KeepAlive::new(Some(TIMEOUT), TIMEOUT, Instant::now());
        keep_alive.client_pinged();
        assert_eq!(
            next(&mut keep_alive).await,
            (TIMEOUT, Some(Due::ClientTimedOut))
        );
        let mut talking = KeepAlive::new(Some(INTERVAL), TIMEOUT, Instant::now());
        talking.client_pinged();
        for _ in 0..4 {
            talking.received(Instant::now());
            assert_eq!(next(&mut talking).await, (INTERVAL, Some(Due::Ping)));
        }
    }
}
