//! Both passes over a JSON file (`json_stream`'s module comment) the fast way: the file cut into
//! pieces by `json_split`, each piece read from memory by the same seeds the slow way uses, and
//! where each Pod's text is noted; the second pass reads only those texts, at those places.
//! Anything the fast way does not take (see `json_split`), and anything that does not read, makes
//! the caller read the file the slow way, both passes, which finds and places the error as it
//! always has.

use std::io::Read;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Scope;

use k8s_openapi::api::core::v1::Pod;
use serde::de::DeserializeSeed;

use crate::input::json_split::{Piece, Split, compact_into, split, texts_at};
use crate::input::json_stream::{Facts, FirstPass, Item, ObjectSeed, PodsError, Shape, settle};
use crate::input::managed_fields::blank_managed_fields;
use crate::input::newest::Newest;
use crate::input::pod_json::{PodView, pod_from_slice_as};
use crate::input::pod_walk;
use crate::input::row_pod::RowPod;
use crate::input::row_read;
use crate::input::yaml::{Located, json_located};
use crate::util::parallel::Relay;
use crate::util::utf8;

/// Where each Pod's text is in a file, in input order: what the second pass reads.
pub(crate) type Places = Vec<Range<usize>>;

/// The first Pods of a file in the Rows view, in input order, read by the first pass so that
/// the second reads only the Pods after them (`status`, which lists rows and nothing else).
pub(crate) type Rows = Vec<RowPod>;

/// The most memory kept rows may take (by `RowPod::footprint`, about three quarters of what
/// they take from the allocator): a realistic pod's row is about 6 KB by it, so some sixteen
/// thousand pods. A bigger file's later Pods are read by the second pass, so memory stays
/// bounded whatever the file's size (and [`rows_budget`] keeps it under a third of that).
const KEPT_ROWS_BYTES: usize = 96 << 20;

/// What the rows of a `size`-byte file may take, if `keep_rows`: rows take memory the file's
/// text did not, so at most a third of its size (a realistic pod's row takes about a fifth of
/// its indented text, a bare pod's more than all of it), and at most [`KEPT_ROWS_BYTES`].
pub(crate) fn rows_budget(size: u64, keep_rows: bool) -> usize {
    match keep_rows {
        true => KEPT_ROWS_BYTES.min(usize::try_from(size / 3).unwrap_or(usize::MAX)),
        false => 0,
    }
}

/// The rows kept so far (every Pod's before the next, in order), what they take, what they
/// may take, and whether the next Pod's may be kept.
struct Kept {
    rows: Rows,
    bytes: usize,
    budget: usize,
    open: bool,
}

impl Kept {
    /// The row of the next item read, if it has one and the budget allows; a Pod without one
    /// closes the rows (an item that is not a Pod leaves them open). Whether it was kept.
    fn keep(&mut self, item: &Item, row: Option<RowPod>) -> bool {
        match row {
            Some(row) if self.open => {
                let bytes = self.bytes + row.footprint();
                self.open = bytes <= self.budget;
                if self.open {
                    self.bytes = bytes;
                    self.rows.push(row);
                }
                self.open
            }
            Some(_) => false,
            None => {
                self.open &= !matches!(item, Item::Pod);
                false
            }
        }
    }

    /// A cut list settled (`is_pod` per item, `kept` per item: whether its row was kept):
    /// only the rows of its first Pods, up to one without a row, stay kept, as what the
    /// second pass reads depends on the list's kind, known only now.
    fn settle(&mut self, is_pod: &[bool], kept: &[bool]) {
        let in_list = kept.iter().filter(|&&k| k).count();
        let mut valid = 0;
        for (&pod, &kept) in is_pod.iter().zip(kept) {
            match (pod, kept) {
                (true, true) => valid += 1,
                (false, false) => {}
                _ => break,
            }
        }
        if valid < in_list {
            self.rows.truncate(self.rows.len() - (in_list - valid));
            self.open = false;
        }
    }
}

/// The first pass, where it found the Pods, and the rows of its first Pods that fit in
/// `rows_budget` bytes (up to the first the hand readers do not take; 0 keeps none);
/// `Split::Unsupported` for anything the slow way must read (or reject).
pub(crate) fn first_pass(
    reader: impl Read,
    rows_budget: usize,
) -> Result<(FirstPass, Places, Rows), Split<()>> {
    let mut pass = FirstPass::default();
    let mut items: Vec<Item> = Vec::new();
    let mut places = Places::new();
    // Where the items of the document being read are, and whether their rows were kept.
    let mut item_places = Vec::new();
    let mut item_kept: Vec<bool> = Vec::new();
    let mut kept = Kept {
        rows: Rows::new(),
        bytes: 0,
        budget: rows_budget,
        open: rows_budget > 0,
    };
    // Whether rows are still read, for the threads reading batches.
    let keeping = AtomicBool::new(kept.open);
    let mut cut = false;
    let work = |batch: &mut Batch| {
        let keep_rows = keeping.load(Ordering::Relaxed);
        batch.read(|text, kind| item_facts(text, kind, keep_rows))
    };
    std::thread::scope(|scope| {
        let mut reading = Batched::start(scope, &work);
        split(reader, &mut |piece| {
            let newest = &mut pass.newest;
            let mut on_read = |read: Result<(Item, Newest, Option<RowPod>), ()>| {
                let (item, own, row) = read?;
                item_kept.push(kept.keep(&item, row));
                if !kept.open {
                    keeping.store(false, Ordering::Relaxed);
                }
                items.push(item);
                newest.merge_all(own);
                Ok(())
            };
            match piece {
                Piece::Head(head) => {
                    let Facts::Object(facts) = read(head, newest, None, true)? else {
                        return Err(());
                    };
                    // As the slow way reads `items`: as a list's while the kind is unknown or
                    // a list's, a typed list's items taking its kind.
                    reading.filling.kind = match facts.kind.as_deref() {
                        None | Some("List") => None,
                        Some(kind) if kind.ends_with("List") => {
                            Some(kind.trim_end_matches("List").to_string())
                        }
                        Some(_) => return Err(()),
                    };
                    items.clear();
                    item_places.clear();
                    item_kept.clear();
                    cut = true;
                }
                Piece::Item(item, place) => {
                    item_places.push(place);
                    reading.add(item, &mut on_read)?;
                }
                Piece::Document(document, place) => {
                    reading.flush(&mut on_read)?;
                    let mut facts = read(document, newest, None, true)?;
                    let was_cut = std::mem::take(&mut cut);
                    if was_cut {
                        let Facts::Object(object) = &mut facts else {
                            return Err(());
                        };
                        object.items = Some(std::mem::take(&mut items));
                    }
                    settle(facts, &mut pass).map_err(|_| ())?;
                    match (pass.shapes.last(), place) {
                        (Some(Shape::List(is_pod)), _) if was_cut => {
                            kept.settle(is_pod, &item_kept);
                            let at = item_places.drain(..).zip(is_pod);
                            places.extend(at.filter_map(|(place, &pod)| pod.then_some(place)));
                        }
                        // The second pass takes a cut document's Pods from its items only.
                        _ if was_cut => return Err(()),
                        (Some(Shape::Pod), Some(place)) => {
                            places.push(place);
                            kept.open = false;
                        }
                        (Some(Shape::List(is_pod)), _) if !is_pod.contains(&true) => {}
                        (Some(Shape::Other), _) => {}
                        // Pods the places would miss: left to the slow way.
                        _ => return Err(()),
                    }
                }
            }
            Ok(())
        })
    })?;
    Ok((pass, places, kept.rows))
}

/// Items cut but not yet read, copied out of the cutter's buffer without their blanks
/// (`compact_into`), up to a MiB at a time.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// The kind a typed list gives its items (`PodList`: Pod).
    kind: Option<String>,
    /// Copied as written, indentation kept: for the Rows view, read by hand, which passes
    /// over most of an item by its brackets and steps over only the indentation of the lines
    /// it reads (compacting each item was a quarter of the second pass).
    as_written: bool,
}

/// Enough items to be worth handing to another thread, few enough to keep memory flat: a
/// decoded Pod takes several times its text (k8s-openapi's structs hold every field), and two
/// batches of them can be waiting to be handed on.
const BATCH_ITEMS: usize = 64;
const BATCH_BYTES: usize = 1 << 20;

impl Batch {
    /// Adds an item; true once the batch is full.
    fn add(&mut self, item: &[u8]) -> bool {
        match self.as_written {
            true => self.bytes.extend_from_slice(item),
            false => compact_into(&mut self.bytes, item),
        }
        self.ends.push(self.bytes.len());
        self.ends.len() >= BATCH_ITEMS || self.bytes.len() >= BATCH_BYTES
    }

    /// `f` over the items, in order.
    fn read<R>(&self, f: impl Fn(&[u8], Option<&str>) -> R) -> Vec<R> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| f(&self.bytes[start..end], self.kind.as_deref()))
            .collect()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

/// A list's items cut into batches and read with one helper thread (`util::parallel::Relay`):
/// reading is most of either pass and cutting a fraction, so this thread cuts and the helper
/// reads, this thread reading a batch too whenever the helper is behind. Results are handed
/// on in input order.
struct Batched<'s, R> {
    /// Cut, not yet read.
    filling: Batch,
    /// Batches read and handed on, to be filled again.
    spare: Vec<Batch>,
    relay: Relay<'s, Batch, Vec<R>>,
}

impl<'s, R: Send + 's> Batched<'s, R> {
    fn start<'e>(
        scope: &'s Scope<'s, 'e>,
        work: &'s (impl Fn(&mut Batch) -> Vec<R> + Sync),
    ) -> Self {
        Batched {
            filling: Batch::default(),
            spare: Vec::new(),
            relay: Relay::start(scope, work),
        }
    }

    /// Adds an item; once the batch is full, it is read, and every result that is ready is
    /// given to `on_read`, in order.
    fn add<E>(
        &mut self,
        item: &[u8],
        on_read: &mut impl FnMut(R) -> Result<(), E>,
    ) -> Result<(), E> {
        if !self.filling.add(item) {
            return Ok(());
        }
        self.submit(on_read)
    }

    /// Every item added so far, read and given to `on_read` in order.
    fn flush<E>(&mut self, on_read: &mut impl FnMut(R) -> Result<(), E>) -> Result<(), E> {
        if !self.filling.ends.is_empty() {
            self.submit(on_read)?;
        }
        let spare = &mut self.spare;
        self.relay
            .finish(&mut |batch, read| hand_on(spare, batch, read, on_read))
    }

    fn submit<E>(&mut self, on_read: &mut impl FnMut(R) -> Result<(), E>) -> Result<(), E> {
        let mut next = self.spare.pop().unwrap_or_default();
        next.kind = self.filling.kind.clone();
        next.as_written = self.filling.as_written;
        let full = std::mem::replace(&mut self.filling, next);
        let spare = &mut self.spare;
        self.relay.submit(full, &mut |batch, read| {
            hand_on(spare, batch, read, on_read)
        })
    }
}

/// A batch's results given to `on_read`, the batch kept to be filled again.
fn hand_on<R, E>(
    spare: &mut Vec<Batch>,
    mut batch: Batch,
    read: Vec<R>,
    on_read: &mut impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    batch.clear();
    spare.push(batch);
    read.into_iter().try_for_each(on_read)
}

/// The first pass's reading of one item of a list whose items are of `kind`: its facts, its
/// newest time, and (`keep_rows`) its row if it is a Pod the hand readers take.
fn item_facts(
    bytes: &[u8],
    kind: Option<&str>,
    keep_rows: bool,
) -> Result<(Item, Newest, Option<RowPod>), ()> {
    let text = utf8(bytes).ok_or(())?;
    // A Pod as kubectl writes one, walked by hand; anything that walk declines, by the seeds.
    if let Ok(own) = pod_walk::pod_item(text, kind) {
        let row = keep_rows.then(|| row_read::pod_row(text).ok()).flatten();
        return Ok((Item::Pod, own, row));
    }
    let mut own = Newest::default();
    read_text(text, &mut own, kind, false).map(|facts| (Item::of(facts), own, None))
}

/// One piece through the first pass's seed; any error is left to the slow way.
fn read(
    bytes: &[u8],
    newest: &mut Newest,
    inherited: Option<&str>,
    top: bool,
) -> Result<Facts, ()> {
    // Checked whole (the cutter leaves items to this; what serde_json passes over unread it
    // does not check), and then read as a str, whose strings serde_json checks no more.
    let text = utf8(bytes).ok_or(())?;
    read_text(text, newest, inherited, top)
}

/// [`read`] of a piece already checked as UTF-8.
fn read_text(
    text: &str,
    newest: &mut Newest,
    inherited: Option<&str>,
    top: bool,
) -> Result<Facts, ()> {
    let mut started = false;
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = ObjectSeed {
        newest,
        inherited,
        top,
        started: &mut started,
    };
    let facts = seed.deserialize(&mut de).map_err(|_| ())?;
    de.end().map_err(|_| ())?;
    Ok(facts)
}

/// The second pass: the Pod at each of `places`, in `view`, in input order. A Pod that does not
/// read is placed within its text only: the caller places it in the file.
pub(crate) fn pods(
    reader: impl Read,
    places: &[Range<usize>],
    view: PodView,
    on_pod: &mut dyn FnMut(Pod) -> crate::error::Result<()>,
) -> Result<(), PodsError> {
    let decode = |bytes: &[u8], _: Option<&str>| pod_from_slice_as(view, bytes);
    // The first pass checked what the blanked managedFields held; by the reading thread, which
    // has time to spare. The Rows view, read by hand, passes over them by their brackets.
    let work = |batch: &mut Batch| {
        if !matches!(view, PodView::Rows) {
            blank_managed_fields(&mut batch.bytes);
        }
        batch.read(decode)
    };
    let mut on_read = |pod: serde_json::Result<Pod>| {
        let pod = pod.map_err(|e| PodsError::Input(json_located(&e)))?;
        on_pod(pod).map_err(PodsError::Stopped)
    };
    // The Pods are decoded a batch at a time, on this thread and a helper, and handed over in
    // order: the first that does not read stops the pass where a one-by-one reading would.
    let read = std::thread::scope(|scope| {
        let mut reading = Batched::start(scope, &work);
        reading.filling.as_written = matches!(view, PodView::Rows);
        texts_at(reader, places, &mut |text| reading.add(text, &mut on_read))?;
        reading.flush(&mut on_read).map_err(Split::Stopped)
    });
    match read {
        Ok(()) => Ok(()),
        Err(Split::Unsupported) => Err(changed()),
        Err(Split::Io(e)) => Err(PodsError::Input(Located {
            line: 1,
            column: 1,
            message: e.to_string(),
        })),
        Err(Split::Stopped(e)) => Err(e),
    }
}

/// The file no longer reads as its first pass did.
fn changed() -> PodsError {
    PodsError::Input(Located {
        line: 1,
        column: 1,
        message: "the file changed while it was read".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::json_stream;
    use crate::input::row_read::tests::{json_value, mutate};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// The first pass's reading of one list item by the seeds alone: whether it is a Pod, and
    /// the newest time it records.
    fn by_seeds(text: &str, kind: Option<&str>) -> Result<(bool, Option<String>), ()> {
        let mut own = Newest::default();
        read(text.as_bytes(), &mut own, kind, false)
            .map(|facts| (matches!(Item::of(facts), Item::Pod), newest_text(own)))
    }

    fn newest_text(newest: Newest) -> Option<String> {
        newest.get().map(|t| t.to_string())
    }

    /// The hand walk answers only as the seeds do (declining is always allowed).
    fn agrees(text: &str, kind: Option<&str>) -> bool {
        match pod_walk::pod_item(text, kind) {
            Ok(newest) => {
                assert_eq!(
                    by_seeds(text, kind),
                    Ok((true, newest_text(newest))),
                    "{text}"
                );
                true
            }
            Err(_) => false,
        }
    }

    #[test]
    fn every_fixture_pod_is_walked_by_hand_as_the_seeds_walk_it() {
        let pods = crate::input::row_pod::tests::fixture_pods();
        assert!(pods.len() > 30);
        for (name, json) in pods {
            let text = String::from_utf8(json).unwrap();
            assert!(agrees(&text, None), "declined: {name}");
            let pretty: Value = serde_json::from_str(&text).unwrap();
            assert!(
                agrees(&serde_json::to_string_pretty(&pretty).unwrap(), Some("Pod")),
                "{name}"
            );
        }
    }

    fn sample() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "shop", "generation": 2,
                "creationTimestamp": "2026-11-01T10:00:00Z", "labels": {"app": "web"},
                "managedFields": [{"manager": "kubelet", "time": "2026-11-09T10:00:00Z",
                    "fieldsV1": {"f:status": {"k:{\"type\":\"Ready\"}": {}}}}]},
            "spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80}],
                "command": ["sh", "-c", "until nslookup db; do sleep 2; done"]}],
                "hostNetwork": false, "priority": null},
            "status": {"startTime": "2026-11-01T10:00:01Z", "conditions": [{"type": "Ready",
                "lastProbeTime": null, "lastTransitionTime": "2026-11-01T10:00:05Z"}],
                "containerStatuses": [{"name": "app", "restartCount": 3, "state": {"terminated":
                    {"exitCode": -1, "startedAt": "2026-11-02T10:00:01Z",
                     "finishedAt": "2026-11-02T10:00:02Z"}}}]}})
    }

    proptest! {
        #[test]
        fn a_mutated_pod_is_walked_by_hand_as_the_seeds_walk_it_or_declined(
            path in prop::collection::vec(any::<usize>(), 0..6),
            with in json_value(&["name", "kind", "metadata", "startedAt"]),
            add in prop::option::of(prop_oneof![
                Just("name"), Just("kind"), Just("apiVersion"), Just("startTime"), Just("zz"),
            ]),
            pretty in any::<bool>(),
            kind in prop::option::of(prop_oneof![Just("Pod"), Just("Service")]),
        ) {
            let mut pod = sample();
            mutate(&mut pod, &path, with, add);
            let text = match pretty {
                true => serde_json::to_string_pretty(&pod).unwrap(),
                false => pod.to_string(),
            };
            agrees(&text, kind);
        }

        /// Text no Value can hold (a key given twice), and text cut short or with noise.
        #[test]
        fn broken_or_duplicated_text_is_declined_or_walked_as_the_seeds_walk_it(
            cut in 0usize..1200,
            noise in "[{}\\[\\]\",:a-z0-9\\\\ .eE+-]{0,24}",
            twice in 0usize..40,
        ) {
            let whole = sample().to_string();
            let at = cut.min(whole.len());
            agrees(&format!("{}{noise}", &whole[..at]), None);
            // A key repeated: the `twice`-th `"key":` given again just before itself.
            // (Not an escaped quote inside a string.)
            let keys: Vec<usize> = whole
                .match_indices("\":")
                .map(|(i, _)| i)
                .filter(|&i| whole.as_bytes()[i - 1] != b'\\')
                .collect();
            if let Some(&end) = keys.get(twice % keys.len()) {
                let start = whole[..end].rfind(['{', ',']).unwrap() + 1;
                let pair_end = whole[end..].find([',', '}']).map_or(whole.len(), |i| end + i);
                let pair = &whole[start..pair_end];
                let doubled = format!("{}{pair},{}", &whole[..start], &whole[start..]);
                let walked = agrees(&doubled, None);
                let scalar = !pair.contains(['{', '[']);
                prop_assert!(!(walked && scalar), "a repeated key was walked: {}", doubled);
            }
        }
    }

    #[test]
    fn the_sample_is_walked_by_hand() {
        assert!(agrees(&sample().to_string(), None));
    }

    const INPUTS: &[&str] = &[
        // kubectl get pods,events -A -o json: keys sorted, kind after items.
        r#"{"apiVersion": "v1", "items": [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x",
             "creationTimestamp": "2026-11-01T10:00:00Z"}, "spec": {"containers": [{"name": "c"}]},
             "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False",
             "lastTransitionTime": "2026-11-02T10:00:00Z"}]}},
            {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
             "lastTimestamp": "2026-11-03T10:00:00Z", "reason": "Failed"},
            {"metadata": {"name": "b"}, "kind": "Pod"}
         ], "kind": "List", "metadata": {"resourceVersion": ""}}"#,
        // A typed list from the API: kind first, items without their own kind.
        r#"{"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"},
            "items": [{"metadata": {"name": "p1"}}, {"metadata": {"name": "p2"}, "spec": {}}]}"#,
        // A stream of objects, one a list of nodes.
        r#"{"kind": "Pod", "metadata": {"name": "solo"}}
           {"kind": "NodeList", "items": [{"metadata": {"name": "n1"}}]}
           {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"items": [1, 2]}}"#,
        // An empty list, and a list without items.
        r#"{"kind": "List", "items": []} {"kind": "List"}"#,
    ];

    fn slow(text: &str) -> String {
        let pass = json_stream::first_pass(&mut serde_json::Deserializer::from_str(text));
        format!("{:?}", pass.map_err(|_| ()))
    }

    /// The fast first pass, as the slow one's result prints, and the places of the Pods.
    fn fast(text: &str) -> (String, Option<(Vec<Shape>, Places)>) {
        match first_pass(text.as_bytes(), 0) {
            Ok((pass, places, _)) => {
                let printed = format!("{:?}", Ok::<_, ()>(&pass));
                (printed, Some((pass.shapes, places)))
            }
            Err(_) => (format!("{:?}", Err::<(), _>(())), None),
        }
    }

    /// The names of the Pods the second pass reads: the fast way at `places`, the slow way by
    /// `shapes`.
    fn names(text: &str, (shapes, places): &(Vec<Shape>, Places), fast: bool) -> Vec<String> {
        let mut names = Vec::new();
        let mut on_pod = |pod: Pod| {
            names.push(pod.metadata.name.unwrap_or_default());
            Ok(())
        };
        let done = match fast {
            true => pods(text.as_bytes(), places, PodView::Rows, &mut on_pod),
            false => json_stream::pods(
                &mut serde_json::Deserializer::from_str(text),
                shapes,
                PodView::Rows,
                &mut on_pod,
            ),
        };
        assert!(done.is_ok(), "{text}");
        names
    }

    #[test]
    fn the_fast_passes_find_what_the_slow_ones_find() {
        for text in INPUTS {
            let (printed, found) = fast(text);
            assert_eq!(printed, slow(text), "{text}");
            let found = found.unwrap();
            assert_eq!(
                names(text, &found, true),
                names(text, &found, false),
                "{text}"
            );
        }
        let found = fast(INPUTS[0]).1.unwrap();
        assert_eq!(names(INPUTS[0], &found, true), ["a", "b"]);
        // The places are the Pods' own text; the solo Pod of a stream is a whole document.
        let (_, places) = fast(INPUTS[2]).1.unwrap();
        assert_eq!(places.len(), 1);
        assert!(INPUTS[2][places[0].clone()].starts_with(r#"{"kind": "Pod""#));
        assert!(INPUTS[2][places[0].clone()].ends_with(r#""solo"}}"#));
    }

    /// A typed list then a mixed one, each several batches long, so that batches are read on
    /// both threads and handed on across documents.
    fn long_lists() -> String {
        let typed: Vec<String> = (0..3 * BATCH_ITEMS + 5)
            .map(|i| format!(r#"{{"metadata": {{"name": "p{i}", "creationTimestamp": "2026-11-{:02}T10:00:00Z"}}}}"#, 1 + i % 28))
            .collect();
        let mixed: Vec<String> = (0..2 * BATCH_ITEMS + 9)
            .map(|i| match i % 3 {
                0 => format!(r#"{{"kind": "Event", "metadata": {{"name": "e{i}"}}}}"#),
                _ => format!(r#"{{"kind": "Pod", "metadata": {{"name": "m{i}"}}}}"#),
            })
            .collect();
        format!(
            r#"{{"kind": "PodList", "items": [{}]}} {{"kind": "List", "items": [{}]}}"#,
            typed.join(", "),
            mixed.join(",\n")
        )
    }

    #[test]
    fn long_lists_read_in_batches_keep_their_order() {
        let text = long_lists();
        let (printed, found) = fast(&text);
        assert_eq!(printed, slow(&text));
        let found = found.unwrap();
        let got = names(&text, &found, true);
        assert_eq!(got, names(&text, &found, false));
        assert_eq!(
            got.len(),
            3 * BATCH_ITEMS + 5 + (2 * BATCH_ITEMS + 9) * 2 / 3
        );
        assert_eq!(got[..2], ["p0", "p1"]);
    }

    /// The rows a first pass keeps are the first Pods the second pass reads, in order, up to
    /// the first Pod the hand readers do not take (metadata before kind, a Pod as a whole
    /// document, a PodList's items whose kind is known only after them).
    #[test]
    fn kept_rows_are_what_the_second_pass_reads() {
        let late_kind = r#"{"items": [{"metadata": {"name": "a"}}], "kind": "PodList"}"#;
        let texts = INPUTS.iter().chain([&late_kind]).map(|t| t.to_string());
        let kept: Vec<(usize, usize)> = texts
            .chain([long_lists()])
            .map(|text| {
                let Ok((_, places, rows)) = first_pass(text.as_bytes(), KEPT_ROWS_BYTES) else {
                    panic!("{text}")
                };
                let mut read = Vec::new();
                let done = pods(text.as_bytes(), &places, PodView::Rows, &mut |pod| {
                    read.push(pod);
                    Ok(())
                });
                assert!(done.is_ok(), "{text}");
                let rows: Vec<Pod> = rows.into_iter().map(RowPod::into_pod).collect();
                assert_eq!(rows, read[..rows.len()], "{text}");
                (rows.len(), read.len())
            })
            .collect();
        let all = 3 * BATCH_ITEMS + 5 + (2 * BATCH_ITEMS + 9) * 2 / 3;
        assert_eq!(kept, [(1, 2), (2, 2), (0, 1), (0, 0), (0, 1), (all, all)]);
        // Asked not to, it keeps none.
        let text = long_lists();
        let none = first_pass(text.as_bytes(), 0);
        assert!(matches!(none, Ok((_, _, rows)) if rows.is_empty()));
    }

    #[test]
    fn rows_are_kept_within_their_budget() {
        // A third of the file, at most KEPT_ROWS_BYTES, none unless asked.
        assert_eq!(rows_budget(3000, true), 1000);
        assert_eq!(rows_budget(u64::MAX, true), KEPT_ROWS_BYTES);
        assert_eq!(rows_budget(3000, false), 0);
        let row = || row_read::pod_row(&sample().to_string()).ok();
        let each = row().unwrap().footprint();
        let mut kept = Kept {
            rows: Rows::new(),
            bytes: 0,
            budget: 1000 * each + each / 2,
            open: true,
        };
        while kept.open {
            kept.keep(&Item::Pod, row());
        }
        assert_eq!(kept.rows.len(), 1000);
        // Closed, it keeps no more, even a row that would fit.
        kept.rows.clear();
        kept.bytes = 0;
        assert!(!kept.keep(&Item::Pod, row()));
        assert!(kept.rows.is_empty());
    }

    #[test]
    fn a_pod_that_does_not_read_stops_the_pass_after_the_pods_before_it() {
        let text = long_lists();
        let (_, places) = fast(&text).1.unwrap();
        // The same file, but pod 150 (in the third batch) now has a name of the wrong type (as
        // long as the string was, so the places still hold).
        let broken = text.replace(r#""name": "p150""#, r#""name": 150000"#);
        let mut seen = Vec::new();
        let done = pods(
            broken.as_bytes(),
            &places,
            PodView::Rows,
            &mut |pod: Pod| {
                seen.push(pod.metadata.name.unwrap_or_default());
                Ok(())
            },
        );
        assert!(matches!(done, Err(PodsError::Input(_))));
        assert_eq!(seen.len(), 150);
        assert_eq!(seen.last().map(String::as_str), Some("p149"));
    }

    #[test]
    fn what_does_not_read_is_left_to_the_slow_way() {
        for text in [
            // No name, a duplicate key, no kind, an item that is not an object, bad syntax.
            r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {}}]}"#,
            r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "a", "name": "b"}}]}"#,
            r#"{"items": []}"#,
            r#"{"kind": "List", "items": [7]}"#,
            r#"{"kind": "List", "items": [{"kind": "Pod" "metadata": {}}]}"#,
            // items under a kind that is no list's, and a Pod holding items.
            r#"{"kind": "ConfigMap", "items": [1]}"#,
            r#"{"kind": "Pod", "metadata": {"name": "a"}, "items": [1]}"#,
        ] {
            assert!(first_pass(text.as_bytes(), 0).is_err(), "{text}");
        }
        // An item that is not UTF-8 where nothing reads it.
        let text = b"{\"kind\": \"List\", \"items\": [{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}, \"x\": \"\xff\"}]}";
        assert!(first_pass(&text[..], 0).is_err());
        let fixed: Vec<u8> = text
            .iter()
            .map(|&b| if b == 0xff { b'y' } else { b })
            .collect();
        assert!(first_pass(&fixed[..], 0).is_ok());
    }
}
