//! How many copies of each stream a NATS cluster keeps.

/// Copies of each JetStream stream the suite creates: 1 on a single server,
/// 3 (or 5) on a cluster, where a stream then survives the loss of a
/// minority of its servers. JetStream allows 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamReplicas(usize);

impl StreamReplicas {
    pub const ONE: Self = Self(1);
    /// The most JetStream keeps.
    pub const MAX: usize = 5;

    /// `None` outside 1 to [`StreamReplicas::MAX`].
    pub fn new(replicas: usize) -> Option<Self> {
        (1..=Self::MAX)
            .contains(&replicas)
            .then_some(Self(replicas))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_counts_jetstream_allows_are_taken() {
        assert_eq!(StreamReplicas::new(0), None);
        assert_eq!(StreamReplicas::new(1), Some(StreamReplicas::ONE));
        assert_eq!(StreamReplicas::new(3).map(StreamReplicas::get), Some(3));
        assert_eq!(StreamReplicas::new(5).map(StreamReplicas::get), Some(5));
        assert_eq!(StreamReplicas::new(6), None);
    }
}
