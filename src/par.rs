//! Work spread over the machine's cores, results in input order: the same output whatever the
//! number of threads. Used where work is per file or per plan and independent.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Stack of each worker: parsing recurses once per YAML level (bounded), and debug builds use
/// large frames; the same as the checking thread's.
const STACK: usize = 64 * 1024 * 1024;

/// How many threads to use: the available cores, at most 8, and never more than the items.
fn threads(items: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8)
        .min(items)
}

/// `items.iter().map(f).collect()`, on several threads when there is more than one item.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = threads(items.len());
    if n <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            mine.push((i, f(item)));
        }
        if let Ok(mut d) = done.lock() {
            d.extend(mine);
        }
    };
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for k in 1..n {
            match std::thread::Builder::new()
                .name(format!("upkeep-{k}"))
                .stack_size(STACK)
                .spawn_scoped(s, work)
            {
                Ok(h) => handles.push(h),
                Err(_) => break, // fewer threads; the others take the work
            }
        }
        work();
        for h in handles {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
    });
    let mut done = done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Answers remembered for the whole process and shared by every thread: at most `max` of them,
/// so memory stays bounded whatever the input; past that, answers are computed every time.
pub(crate) struct Memo<K, V> {
    known: Mutex<Option<std::collections::HashMap<K, V>>>,
    max: usize,
}

impl<K: std::hash::Hash + Eq, V: Clone> Memo<K, V> {
    pub(crate) const fn new(max: usize) -> Self {
        Memo {
            known: Mutex::new(None),
            max,
        }
    }

    /// The answer remembered for `key`, or `answer()`, remembered while there is room.
    pub(crate) fn get<Q>(&self, key: &Q, answer: impl FnOnce() -> V) -> V
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(found) = self
            .known
            .lock()
            .ok()
            .and_then(|k| k.as_ref().and_then(|k| k.get(key).cloned()))
        {
            return found;
        }
        let found = answer();
        if let Ok(mut k) = self.known.lock() {
            let k = k.get_or_insert_with(std::collections::HashMap::new);
            if k.len() < self.max {
                k.insert(key.to_owned(), found.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_input_order() {
        let items: Vec<u64> = (0..1000).collect();
        let out = super::map(&items, |i| i * 2);
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(super::map(&[] as &[u64], |i| *i).is_empty());
    }

    #[test]
    fn memo_remembers_up_to_its_bound() {
        let memo: super::Memo<String, usize> = super::Memo::new(1);
        assert_eq!(memo.get("a", || 1), 1);
        assert_eq!(memo.get("a", || 2), 1);
        assert_eq!(memo.get("b", || 3), 3);
        assert_eq!(memo.get("b", || 4), 4);
    }
}
