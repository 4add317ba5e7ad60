//! A window in which a test deliberately holds still for a set time (a client
//! that stops reading, say): a fault the test injects, not a wait for
//! something to happen. What the window is for cannot be looked at from the
//! test (nothing the system under test shows marks its end), so it is timed;
//! tests call this rather than sleeping themselves, so every fixed pause in
//! the suites is named, explained where it is used, and found here.

use std::time::Duration;

/// Holds the calling test still for `window`, saying in the test's output what
/// the window is for. Only for a deliberate negative window: anything a test
/// waits *for* is awaited with [`crate::wait_until`] instead.
pub async fn quiet_for(what: &str, window: Duration) {
    eprintln!("holding still for {window:?}: {what}");
    tokio::time::sleep(window).await;
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn lasts_the_whole_window() {
        let started = Instant::now();
        quiet_for("nothing", Duration::from_secs(6)).await;
        assert!(started.elapsed() >= Duration::from_secs(6));
    }
}
