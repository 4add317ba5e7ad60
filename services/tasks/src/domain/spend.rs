//! What one aggregation window of a key's spend means: the budget
//! thresholds it crossed and whether it was unusually large. Amounts are
//! exact micro-units; only the unusual-spending comparison, a judgement
//! against a configured factor, is made in floating point.

use uuid::Uuid;

use super::{text, Money};
use crate::TasksError;

/// Budget thresholds, in percent, each alerted once per key (until the
/// budget is set again).
const BUDGET_THRESHOLDS: [i32; 3] = [50, 80, 100];
/// How many earlier windows the unusual-spending average covers.
pub const HISTORY_WINDOWS: i64 = 10;
/// Fewer earlier windows than this are no basis for "unusual".
const MIN_HISTORY: usize = 3;

/// A validated `RecordSpend` (the key is checked by the store).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSpend {
    pub virtual_key_id: Uuid,
    pub amount: Money,
    pub description: Option<String>,
}

impl NewSpend {
    pub fn new(
        virtual_key_id: Uuid,
        amount: f64,
        description: Option<&str>,
    ) -> Result<Self, TasksError> {
        Ok(Self {
            virtual_key_id,
            amount: Money::positive("amount", amount)?,
            description: text::optional("description", description, text::TEXT_MAX)?,
        })
    }
}

/// One key's spend aggregated in one window: `previous + delta = current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpendWindow {
    pub virtual_key_id: Uuid,
    pub previous: Money,
    pub delta: Money,
    pub current: Money,
}

/// The thresholds `current` has reached that have not `fired` yet,
/// ascending, so one window crossing several alerts each in order.
pub fn thresholds_reached(current: Money, budget: Money, fired: &[i32]) -> Vec<i32> {
    BUDGET_THRESHOLDS
        .into_iter()
        .filter(|threshold| !fired.contains(threshold))
        .filter(|&threshold| {
            // current / budget >= threshold / 100, in integers.
            i128::from(current.micros()) * 100
                >= i128::from(threshold) * i128::from(budget.micros())
        })
        .collect()
}

/// The average of the `history` windows (newest first, at most
/// [`HISTORY_WINDOWS`]) when `delta` exceeds `factor` times it; `None` when
/// the window is ordinary or there are fewer than 3 earlier windows.
pub fn unusual_average(delta: Money, history: &[Money], factor: f64) -> Option<Money> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let total: i64 = history.iter().map(|window| window.micros()).sum();
    let average = total as f64 / history.len() as f64;
    (delta.micros() as f64 > factor * average).then(|| Money::from_micros(average.round() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(value: i64) -> Money {
        Money::from_micros(value * 1_000_000)
    }

    #[test]
    fn each_threshold_alerts_once_in_ascending_order() {
        let budget = units(10);
        assert_eq!(thresholds_reached(units(4), budget, &[]), Vec::<i32>::new());
        assert_eq!(thresholds_reached(units(5), budget, &[]), vec![50]);
        assert_eq!(thresholds_reached(units(10), budget, &[50]), vec![80, 100]);
        assert_eq!(
            thresholds_reached(units(12), budget, &[50, 80, 100]),
            Vec::<i32>::new()
        );
    }

    #[test]
    fn thresholds_are_exact_at_the_micro_unit() {
        let budget = Money::from_micros(3);
        assert_eq!(
            thresholds_reached(Money::from_micros(1), budget, &[]),
            Vec::<i32>::new()
        );
        assert_eq!(
            thresholds_reached(Money::from_micros(2), budget, &[]),
            vec![50]
        );
        let budget = units(1);
        assert_eq!(
            thresholds_reached(Money::from_micros(799_999), budget, &[50]),
            Vec::<i32>::new()
        );
        assert_eq!(
            thresholds_reached(Money::from_micros(800_000), budget, &[50]),
            vec![80]
        );
    }

    #[test]
    fn a_spike_above_the_factor_is_unusual_once_there_is_history() {
        let history = [units(1), units(2), units(3)];
        assert_eq!(unusual_average(units(7), &history, 3.0), Some(units(2)));
        assert_eq!(
            unusual_average(units(6), &history, 3.0),
            None,
            "not above 3x"
        );
        assert_eq!(unusual_average(units(100), &history[..2], 3.0), None);
    }

    #[test]
    fn the_average_is_rounded_to_the_micro_unit() {
        let history = [
            Money::from_micros(1),
            Money::from_micros(1),
            Money::from_micros(2),
        ];
        assert_eq!(
            unusual_average(units(1), &history, 3.0),
            Some(Money::from_micros(1))
        );
    }
}
