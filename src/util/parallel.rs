//! CPU-bound work over a slice, split across the machine's cores (at most four) with scoped
//! threads; in order, and on the calling thread alone when there is little of it.

use std::num::NonZeroUsize;

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
}
