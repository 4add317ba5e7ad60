//! Turning arrivals into the figures the table shows, and checking them: each
//! member must get each message of a run exactly once.

use crate::client::Arrival;

/// The `q` quantile (nearest rank) of sorted microseconds, in milliseconds.
pub fn quantile_ms(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e3
}

pub fn per_second(count: u64, micros: u64) -> f64 {
    count as f64 / (micros.max(1) as f64 / 1e6)
}

/// What the members of one run received, against what was sent.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Distinct (member, message) pairs received.
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Send-to-arrival times, sorted, in microseconds.
    pub latencies: Vec<u64>,
    /// The last arrival, in [`crate::marker::now_micros`] time.
    pub last_arrival: u64,
}

impl Delivery {
    /// Adds one member's arrivals of `run`, which should hold each of
    /// `expected` indices once.
    pub fn add_member(&mut self, arrivals: &[Arrival], run: u32, expected: u32) {
        let mut indices: Vec<u32> = Vec::with_capacity(expected as usize);
        for arrival in arrivals.iter().filter(|a| a.stamp.run == run) {
            indices.push(arrival.stamp.index);
            self.latencies.push(arrival.latency_micros);
            self.last_arrival = self
                .last_arrival
                .max(arrival.stamp.sent + arrival.latency_micros);
        }
        let received = indices.len() as u64;
        indices.sort_unstable();
        indices.dedup();
        let distinct = indices.iter().filter(|&&i| i < expected).count() as u64;
        self.delivered += distinct;
        self.duplicated += received - indices.len() as u64;
        self.lost += u64::from(expected) - distinct;
    }

    pub fn finish(&mut self) {
        self.latencies.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marker::Stamp;

    fn arrival(run: u32, index: u32) -> Arrival {
        Arrival {
            stamp: Stamp {
                run,
                index,
                sent: 1_000,
            },
            latency_micros: 10,
        }
    }

    #[test]
    fn counts_losses_and_duplicates_per_member() {
        let mut delivery = Delivery::default();
        delivery.add_member(&[arrival(1, 0), arrival(1, 1), arrival(1, 2)], 1, 3);
        delivery.add_member(&[arrival(1, 0), arrival(1, 0), arrival(9, 1)], 1, 3);
        assert_eq!(delivery.delivered, 4);
        assert_eq!(delivery.duplicated, 1);
        assert_eq!(delivery.lost, 2);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let sorted = [1_000, 2_000, 3_000, 4_000];
        assert!((quantile_ms(&sorted, 0.5) - 2.0).abs() < 1e-9);
        assert!((quantile_ms(&sorted, 0.99) - 4.0).abs() < 1e-9);
    }
}
