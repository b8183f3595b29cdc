//! How many requests the server is serving at once, and the most it ever served at once since
//! the last reset: lets a test assert a client's bounded concurrency (explain's log reads).

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub(super) struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl InFlight {
    /// Counts a request as in flight until the returned guard is dropped (its answer is made).
    pub(super) fn enter(&self) -> Serving<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Serving(self)
    }

    pub(super) fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub(super) fn reset_peak(&self) {
        self.peak
            .store(self.now.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

pub(super) struct Serving<'a>(&'a InFlight);

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}
