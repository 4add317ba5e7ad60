//! Money as an exact whole number of micro-units (millionths), the
//! resolution of the database's NUMERIC(18,6) columns. Sums are made in
//! NUMERIC by the database and read back as micro-units, so nothing is
//! rounded on the way; `f64` appears only at the edges (requests in,
//! payloads out).

use std::fmt;

use crate::TasksError;

/// Micro-units in one currency unit.
const MICROS_PER_UNIT: i64 = 1_000_000;
/// Largest amount one request may carry (a spend record or a budget), in
/// units: far beyond any real charge, and far below what NUMERIC(18,6) or
/// an `i64` of micro-units can hold when many are added up.
const MAX_UNITS: i64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    pub fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// An amount a client sent in `field`: finite, positive, at most a
    /// billion units, rounded to 6 decimal places (and not to zero).
    pub fn positive(field: &str, value: f64) -> Result<Self, TasksError> {
        if !value.is_finite() || value <= 0.0 {
            return Err(TasksError::Invalid(format!(
                "{field} must be a number greater than 0"
            )));
        }
        // Exact in f64: both are integers far below 2^53.
        if value > (MAX_UNITS as f64) {
            return Err(TasksError::Invalid(format!(
                "{field} must be at most {MAX_UNITS}"
            )));
        }
        // In range: at most 10^15 micro-units, so the cast cannot saturate.
        let micros = (value * MICROS_PER_UNIT as f64).round() as i64;
        if micros == 0 {
            return Err(TasksError::Invalid(format!(
                "{field} must be at least 0.000001"
            )));
        }
        Ok(Self(micros))
    }

    /// The amount for a payload: the nearest `f64` to the exact decimal
    /// (one correctly rounded division of two exactly represented numbers).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_UNIT as f64
    }
}

/// Plain decimal without trailing zeros (`12.5`, `100`, `0.000001`), as
/// admins read it in `ConfigurationChanged` and alert messages.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let micros = self.0.unsigned_abs();
        let units = micros / MICROS_PER_UNIT.unsigned_abs();
        let fraction = micros % MICROS_PER_UNIT.unsigned_abs();
        if fraction == 0 {
            return write!(f, "{sign}{units}");
        }
        let digits = format!("{fraction:06}");
        write!(f, "{sign}{units}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(value: f64) -> String {
        pulse_testkit::invalid_message(Money::positive("amount", value))
    }

    #[test]
    fn amounts_are_rounded_to_micro_units() {
        assert_eq!(Money::positive("amount", 0.1).ok(), Some(Money(100_000)));
        assert_eq!(
            Money::positive("amount", 1.2345674).ok(),
            Some(Money(1_234_567))
        );
        assert_eq!(Money::positive("amount", 0.0000005).ok(), Some(Money(1)));
        assert_eq!(
            Money::positive("amount", 1e9).ok(),
            Some(Money(1_000_000_000_000_000))
        );
    }

    #[test]
    fn only_finite_positive_amounts_are_accepted() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(refusal(bad), "amount must be a number greater than 0");
        }
        assert_eq!(refusal(1e9 + 1.0), "amount must be at most 1000000000");
        assert_eq!(refusal(0.0000004), "amount must be at least 0.000001");
    }

    #[test]
    fn displays_as_a_plain_decimal() {
        assert_eq!(Money(12_500_000).to_string(), "12.5");
        assert_eq!(Money(100_000_000).to_string(), "100");
        assert_eq!(Money(1).to_string(), "0.000001");
        assert_eq!(Money(-1_500_000).to_string(), "-1.5");
        assert_eq!(Money(0).to_string(), "0");
    }

    #[test]
    fn converts_to_the_nearest_f64() {
        assert_eq!(Money(100_000).to_f64(), 0.1);
        assert_eq!(Money(1_234_567).to_f64(), 1.234567);
    }
}
