//! The one timestamp format of the contract, beside the messages that carry
//! timestamps as strings: every service, the outbox and the gateway write
//! through it, so clients see a single shape.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 UTC with milliseconds and `Z` (`2026-12-06T10:00:00.000Z`), the
/// one timestamp format clients see in entities and events.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let at = Utc
            .with_ymd_and_hms(2024, 5, 6, 7, 8, 9)
            .single()
            .expect("valid date");
        assert_eq!(timestamp(at), "2024-05-06T07:08:09.000Z");
        let within = at + chrono::Duration::nanoseconds(123_456_789);
        assert_eq!(timestamp(within), "2024-05-06T07:08:09.123Z");
    }
}
