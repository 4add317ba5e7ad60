//! How many items one page of a list holds.

use crate::CoachingError;

/// A page size the caller asked for: 1 to [`PageLimit::MAX`], or
/// [`PageLimit::DEFAULT`] when they did not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 200;

    pub fn new(limit: Option<u32>) -> Result<Self, CoachingError> {
        match limit.unwrap_or(Self::DEFAULT) {
            limit @ 1..=Self::MAX => Ok(Self(limit)),
            _ => Err(CoachingError::Invalid(format!(
                "limit must be between 1 and {}",
                Self::MAX
            ))),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_means_fifty_and_only_one_to_two_hundred_is_accepted() {
        assert_eq!(PageLimit::new(None).ok(), Some(PageLimit(50)));
        assert_eq!(PageLimit::new(Some(1)).ok(), Some(PageLimit(1)));
        assert_eq!(PageLimit::new(Some(200)).ok(), Some(PageLimit(200)));
        for refused in [0, 201, u32::MAX] {
            assert!(matches!(
                PageLimit::new(Some(refused)),
                Err(CoachingError::Invalid(message)) if message == "limit must be between 1 and 200"
            ));
        }
    }
}
