//! Counts what the gateway under test holds on the heap, for the memory budget tests: the global
//! allocator of this test binary wraps the system one and attributes every block to the
//! allocation group of the thread that allocated it.
//!
//! Only threads that called [`track_this_thread`] (a server runtime's workers) are in a group, so
//! clients and the other tests running beside them in this process are not counted. A block is
//! taken off its group's count wherever it is freed.

use std::{
    alloc::System,
    sync::atomic::{AtomicIsize, Ordering},
};

use tracking_allocator::{
    AllocationGroupId, AllocationGroupToken, AllocationRegistry, AllocationTracker, Allocator,
};

#[global_allocator]
static ALLOCATOR: Allocator<System> = Allocator::system();

/// Bytes and blocks allocated by tracked threads and not freed yet.
static BYTES: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);

struct Tally;

impl AllocationTracker for Tally {
    fn allocated(&self, _addr: usize, size: usize, _wrapped: usize, group: AllocationGroupId) {
        if group != AllocationGroupId::ROOT {
            BYTES.fetch_add(size as isize, Ordering::Relaxed);
            BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn deallocated(
        &self,
        _addr: usize,
        size: usize,
        _wrapped: usize,
        source: AllocationGroupId,
        _current: AllocationGroupId,
    ) {
        if source != AllocationGroupId::ROOT {
            BYTES.fetch_sub(size as isize, Ordering::Relaxed);
            BLOCKS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Counts what this thread allocates from now on, for the rest of its life (call it in a
/// runtime's `on_thread_start`).
pub fn track_this_thread() {
    // A second call (another test) finds the tracker set already, which is the same one.
    let _ = AllocationRegistry::set_global_tracker(Tally);
    AllocationRegistry::enable_tracking();
    let Some(token) = AllocationGroupToken::register() else {
        return;
    };
    // The group stays entered until the thread ends: the token and its guard are never dropped.
    let token: &'static mut AllocationGroupToken = Box::leak(Box::new(token));
    std::mem::forget(token.enter());
}

/// What tracked threads hold now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub bytes: isize,
    pub blocks: isize,
}

pub fn held() -> Held {
    Held {
        bytes: BYTES.load(Ordering::Relaxed),
        blocks: BLOCKS.load(Ordering::Relaxed),
    }
}
