//! CPU-bound work over a slice, split across the machine's cores (at most four) with scoped
//! threads; in order, and on the calling thread alone when there is little of it. [`Relay`]
//! shares a stream of jobs with one helper thread; [`drop_elsewhere`] hands a value to the
//! runtime's blocking pool to be freed.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::mpsc;
use std::thread::Scope;

/// Drops `value` on a thread of the async runtime's blocking pool rather than here: for large
/// trees of small allocations (a page of k8s-openapi Pods) that this thread has no need to wait
/// for. Freeing a LIST's pods at the end of `explain -A` took a tenth of its wall time at 10k
/// pods (docs/benchmarks.md). (Not the runtime's worker: it fetches the next pages.) Outside a
/// runtime, dropped here.
pub fn drop_elsewhere<T: Send + 'static>(value: T) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(value))),
        Err(_) => drop(value),
    }
}

/// Below this many items a thread costs more than it saves.
const SPLIT_FROM: usize = 64;
const MAX_THREADS: usize = 4;

/// `f` over `items`, in order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    match try_map(items, |item| Ok::<_, std::convert::Infallible>(f(item))) {
        Ok(out) => out,
        Err(never) => match never {},
    }
}

/// `f` over `items`, in order; the first error (in item order) wins.
pub fn try_map<T: Sync, R: Send, E: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E> {
    let threads = std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(MAX_THREADS);
    if threads < 2 || items.len() < SPLIT_FROM {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    let parts: Vec<Result<Vec<R>, E>> = std::thread::scope(|scope| {
        let mut chunks = items.chunks(chunk);
        let first = chunks.next().unwrap_or_default();
        let others: Vec<_> = chunks
            .map(|part| scope.spawn(move || part.iter().map(f).collect()))
            .collect();
        let mut parts = vec![first.iter().map(f).collect()];
        // A panic aborts the process (panic = "abort"), so a join cannot fail in the binary.
        parts.extend(
            others
                .into_iter()
                .map(|h| h.join().expect("worker panicked")),
        );
        parts
    });
    let mut out = Vec::with_capacity(items.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// Jobs made one after another on the calling thread (a file being cut, say) and worked on by
/// one helper thread, or here when the helper is behind, with their results taken in the
/// order the jobs were made. The helper lives for the whole scope (a thread per job would add
/// its allocator heap to the peak memory); at most [`RELAY_PENDING`] jobs are in flight.
pub struct Relay<'s, J, R> {
    /// What is done to each job, by the helper or here (it may change the job too).
    work: &'s (dyn Fn(&mut J) -> R + Sync),
    to_helper: mpsc::SyncSender<J>,
    from_helper: mpsc::Receiver<(J, R)>,
    /// Jobs not yet taken, oldest first: `None` while with the helper, else done here.
    pending: VecDeque<Option<(J, R)>>,
}

/// How many jobs may be made and not yet taken.
pub const RELAY_PENDING: usize = 4;

impl<'s, J: Send + 's, R: Send + 's> Relay<'s, J, R> {
    pub fn start<'e>(scope: &'s Scope<'s, 'e>, work: &'s (impl Fn(&mut J) -> R + Sync)) -> Self {
        // One job queued behind the one being worked on: the helper never waits for this thread.
        let (to_helper, jobs) = mpsc::sync_channel::<J>(1);
        let (results, from_helper) = mpsc::sync_channel(RELAY_PENDING);
        scope.spawn(move || {
            for mut job in jobs {
                let result = work(&mut job);
                if results.send((job, result)).is_err() {
                    break;
                }
            }
        });
        Relay {
            work,
            to_helper,
            from_helper,
            pending: VecDeque::new(),
        }
    }

    /// Hands `job` to the helper, or works on it here if the helper has one queued already;
    /// then gives `take` every result that is ready, in order (waiting only to keep at most
    /// [`RELAY_PENDING`] in flight).
    pub fn submit<E>(
        &mut self,
        job: J,
        take: &mut impl FnMut(J, R) -> Result<(), E>,
    ) -> Result<(), E> {
        match self.to_helper.try_send(job) {
            Ok(()) => self.pending.push_back(None),
            Err(mpsc::TrySendError::Full(mut job) | mpsc::TrySendError::Disconnected(mut job)) => {
                let result = (self.work)(&mut job);
                self.pending.push_back(Some((job, result)));
            }
        }
        self.take_ready(take, RELAY_PENDING)
    }

    /// Every result, in order.
    pub fn finish<E>(&mut self, take: &mut impl FnMut(J, R) -> Result<(), E>) -> Result<(), E> {
        self.take_ready(take, 0)
    }

    /// Takes results from the front while they are ready, and waits for them while more than
    /// `keep` are pending.
    fn take_ready<E>(
        &mut self,
        take: &mut impl FnMut(J, R) -> Result<(), E>,
        keep: usize,
    ) -> Result<(), E> {
        while let Some(front) = self.pending.pop_front() {
            let done = match front {
                Some(done) => Some(done),
                None if self.pending.len() >= keep => self.from_helper.recv().ok(),
                None => self.from_helper.try_recv().ok(),
            };
            match done {
                Some((job, result)) => take(job, result)?,
                None if self.pending.len() >= keep => {
                    // The helper is gone: only a panic there does that, and the scope
                    // re-raises it.
                    return Ok(());
                }
                None => {
                    self.pending.push_front(None);
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_their_order_and_the_first_error_wins() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = try_map(&items, |i| Ok::<_, ()>(i * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let err = try_map(&items, |&i| if i % 300 == 299 { Err(i) } else { Ok(i) });
        assert_eq!(err, Err(299));
        assert_eq!(
            try_map(&items[..3], |i| Ok::<_, ()>(*i)).unwrap(),
            [0, 1, 2]
        );
    }

    #[test]
    fn a_relay_shares_the_jobs_and_hands_results_on_in_order() {
        let caller = std::thread::current().id();
        // Slow jobs, so that the helper falls behind and the caller works on some too.
        let work = |job: &mut u32| {
            std::thread::sleep(std::time::Duration::from_millis(1));
            (*job * 10, std::thread::current().id() == caller)
        };
        let mut taken = Vec::new();
        let mut here = 0;
        std::thread::scope(|scope| {
            let mut relay = Relay::start(scope, &work);
            let mut take = |job: u32, (result, on_caller): (u32, bool)| {
                assert_eq!(result, job * 10);
                taken.push(job);
                here += usize::from(on_caller);
                Ok::<_, ()>(())
            };
            for job in 0..100 {
                relay.submit(job, &mut take).unwrap();
                assert!(relay.pending.len() <= RELAY_PENDING + 1);
            }
            relay.finish(&mut take).unwrap();
        });
        assert_eq!(taken, (0..100).collect::<Vec<_>>());
        assert!(
            (1..100).contains(&here),
            "{here} of 100 jobs on the calling thread"
        );
    }

    #[test]
    fn a_relay_stops_at_the_first_result_refused() {
        let work = |job: &mut u32| *job;
        let mut taken = Vec::new();
        let stopped = std::thread::scope(|scope| {
            let mut relay = Relay::start(scope, &work);
            let mut take = |job: u32, _| {
                if job == 7 {
                    return Err(job);
                }
                taken.push(job);
                Ok(())
            };
            for job in 0..20 {
                relay.submit(job, &mut take)?;
            }
            relay.finish(&mut take)
        });
        assert_eq!(stopped, Err(7));
        assert_eq!(taken, (0..7).collect::<Vec<_>>());
    }
}
