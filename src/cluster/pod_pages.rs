//! Pod LIST pages read from the response bytes as they came (one buffer, gunzipped): the list's
//! metadata from the front of the body first, so the next page can be asked for at once, then
//! the pods, decoded lean (`input::pod_json`: no managedFields) and never through a `String` or a
//! `serde_json::Value`. `Listing` fetches the pages on the runtime's worker thread and
//! `Decoding` decodes each on its blocking pool while the caller prints the one before.

use futures::SinkExt;
use futures::StreamExt;
use futures::channel::mpsc;
use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::cluster::Cluster;
use crate::cluster::client::PAGE_SIZE;
use crate::cluster::client::Pages;
use crate::error::{Error, Result};
use crate::input::managed_fields::blank_managed_fields;
use crate::input::pod_json::{PodView, pod_from_str_as};
use crate::input::row_read::{self, Declined, ItemText};
use crate::util::utf8;

/// What a pod LIST selects: the query's scope and selectors in their wire form.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodSelection {
    /// None: every namespace.
    pub(crate) namespace: Option<String>,
    pub(crate) labels: Option<String>,
    pub(crate) fields: Option<String>,
}

/// A page of a pod LIST as the server sent it: its body, and the list metadata read from it.
pub(crate) struct RawPodPage {
    body: Vec<u8>,
    pub(crate) resource_version: String,
    /// The continue token; None on the last page.
    pub(crate) next: Option<String>,
}

impl RawPodPage {
    /// Reads the list metadata of `body`; the items are left for [`RawPodPage::pods`].
    pub(crate) fn new(body: Vec<u8>) -> serde_json::Result<RawPodPage> {
        let head = list_head(&body)?;
        Ok(RawPodPage {
            body,
            resource_version: head.resource_version.unwrap_or_default(),
            next: head.continue_token.filter(|c| !c.is_empty()),
        })
    }

    /// The buffer the page was read into.
    pub(crate) fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The page's pods in `view` ([`list_items`]).
    pub(crate) fn pods(&mut self, view: PodView) -> serde_json::Result<Vec<Pod>> {
        list_items(&mut self.body, view)
    }
}

/// The list metadata a page is continued by.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListHead {
    resource_version: Option<String>,
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Key {
    Metadata,
    Items,
    #[serde(other)]
    Other,
}

/// Reads the top-level keys of a list until it has `metadata` and reaches `items`: kube-apiserver
/// writes `metadata` first, so the items are not even scanned. (A body that puts `items` first is
/// scanned past them, not decoded.)
struct HeadSeed<'a> {
    head: &'a mut ListHead,
    /// Set when reading stopped at `items` on purpose (the deserializer then complains that the
    /// object did not end, which is not an error here).
    stopped: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for HeadSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HeadSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a pod list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_metadata = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Metadata => {
                    *self.head = map.next_value::<Option<ListHead>>()?.unwrap_or_default();
                    has_metadata = true;
                }
                Key::Items if has_metadata => {
                    *self.stopped = true;
                    return Ok(());
                }
                Key::Items | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The metadata of a pod list body, without decoding its items.
pub(crate) fn list_head(body: &[u8]) -> serde_json::Result<ListHead> {
    let mut head = ListHead::default();
    let mut stopped = false;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let read = HeadSeed {
        head: &mut head,
        stopped: &mut stopped,
    }
    .deserialize(&mut deserializer);
    match read {
        Err(_) if stopped => Ok(head),
        Err(e) => Err(e),
        Ok(()) if stopped => Ok(head),
        Ok(()) => deserializer.end().map(|()| head),
    }
}

/// The items of a pod list body (kind, apiVersion and metadata skipped), each decoded in `view`.
/// As kube reads a list: `items` must be there, and `null` is no items.
struct ItemsSeed(PodView);

impl<'de> DeserializeSeed<'de> for ItemsSeed {
    type Value = Vec<Pod>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Pod>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed {
    type Value = Vec<Pod>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a pod list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Pod>, A::Error> {
        let mut items = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Items if items.is_none() => {
                    items = Some(map.next_value_seed(PodSeq(self.0))?.unwrap_or_default());
                }
                Key::Items => return Err(serde::de::Error::duplicate_field("items")),
                Key::Metadata | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        items.ok_or_else(|| serde::de::Error::missing_field("items"))
    }
}

/// A JSON array of pods, or null.
struct PodSeq(PodView);

impl<'de> DeserializeSeed<'de> for PodSeq {
    type Value = Option<Vec<Pod>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for PodSeq {
    type Value = Option<Vec<Pod>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of pods")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Room for a whole page at once: a Pod is a large value, and growing the vector moves
        // every one decoded so far (a tenth of the decoding time at 10k pods).
        let mut pods = Vec::with_capacity(seq.size_hint().unwrap_or(PAGE_SIZE as usize));
        while let Some(pod) = seq.next_element_seed(self.0)? {
            pods.push(pod);
        }
        Ok(Some(pods))
    }
}

/// The pods of a pod list body in `view`, decoded straight from its bytes: the Rows view read
/// by hand where it reads there (`input::row_read`, which passes over managedFields by their
/// brackets), and for [`PodView::WholeIf`] the picked pods' texts then read by serde_json
/// without their managedFields; anything else by serde_json once the managedFields nothing
/// reads are blanked in `body`. A page that does not read by hand is read again in one pass,
/// so an error keeps its place in the body.
pub(crate) fn list_items(body: &mut [u8], view: PodView) -> serde_json::Result<Vec<Pod>> {
    let by_hand = match view {
        PodView::Rows => utf8(body)
            .and_then(|text| row_read::list_rows(text, PAGE_SIZE as usize, |pod, _| Ok(pod)).ok()),
        PodView::WholeIf(picks) => picked_items(body, picks).ok(),
        PodView::Whole => None,
    };
    if let Some(pods) = by_hand {
        return Ok(pods);
    }
    blank_managed_fields(body);
    in_one_pass(body, view)
}

fn in_one_pass(body: &[u8], view: PodView) -> serde_json::Result<Vec<Pod>> {
    // Checked as UTF-8 at once, the body's strings are not checked again one by one (a tenth
    // of the decoding); one that is not UTF-8 is read as bytes, failing where it did before.
    match utf8(body) {
        Some(text) => items_of(serde_json::Deserializer::from_str(text), view),
        None => items_of(serde_json::Deserializer::from_slice(body), view),
    }
}

fn items_of<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    view: PodView,
) -> serde_json::Result<Vec<Pod>> {
    let pods = ItemsSeed(view).deserialize(&mut de)?;
    de.end()?;
    Ok(pods)
}

/// [`PodView::WholeIf`]: each item read in the Rows view by hand (`input::row_read`, which
/// passes over what a row does not read by its brackets), and its text read again whole by
/// serde_json if `picks` it. Err for anything else (a page that is not UTF-8, or that either
/// reading declines): the caller reads that page in one pass, which reads it as serde_json
/// does or places the error. (Locating the items with serde_json, as borrowed `RawValue`s, was
/// a sixth of `explain -A`; cutting them out with `input::json_split` first, a tenth.)
fn picked_items(body: &[u8], picks: fn(&Pod) -> bool) -> Result<Vec<Pod>, ()> {
    let text = utf8(body).ok_or(())?;
    let mut scratch = String::new();
    let then = |rows: Pod, item: ItemText| match picks(&rows) {
        true => {
            let text = item.without_managed_fields(&mut scratch);
            pod_from_str_as(PodView::Whole, text).map_err(|_| Declined)
        }
        false => Ok(rows),
    };
    row_read::list_rows(text, PAGE_SIZE as usize, then).map_err(drop)
}

/// How many fetched pages may wait, decoding or decoded, for the caller to take them: enough
/// that decoding keeps both cores busy while the caller prints, few enough that memory stays
/// bounded (a page is about 5 MB of text and as much again decoded).
const PAGES_AHEAD: usize = 3;

/// A pod LIST read page after page by a task on the runtime's worker, each page decoded on the
/// blocking pool as soon as it is fetched ([`Decoding`]), and handed to the caller in order.
/// The task fetches the next page as soon as it has the continue token, whatever the caller is
/// doing, until `PAGES_AHEAD` pages are waiting: decoding is most of a listing's work and
/// fetching a fraction, so there is more work ready than there are cores, which the system
/// shares out as they come free. (Fetching one page ahead of the caller, and later two, left
/// the cores idle whenever the caller was printing.) Pages, not items, are shared: locating the
/// items to share them out cost more than it gave back (docs/benchmarks.md). Dropped = the
/// task and its request abandoned.
pub(crate) struct Listing {
    pages: mpsc::Receiver<Ahead>,
    task: tokio::task::JoinHandle<()>,
}

/// A page fetched ahead of the caller, or the fetch that failed after them.
pub(crate) enum Ahead {
    /// Decoding, with what its continue token said (an error when the list loops).
    Page(Decoding, Result<Option<String>>),
    /// The fetch failed; whether it was continuing the list (a 410 then starts it over).
    Failed(Error, bool),
}

impl Listing {
    pub(crate) fn start(cluster: &Cluster, selection: &PodSelection, view: PodView) -> Listing {
        let (cluster, selection) = (cluster.clone(), selection.clone());
        // The channel holds PAGES_AHEAD - 1, and the task one more while it waits to send.
        let (mut sender, pages) = mpsc::channel(PAGES_AHEAD - 2);
        let task = tokio::spawn(async move {
            let mut seen = Pages::default();
            let mut token = None;
            loop {
                let continuing = token.is_some();
                let page = match cluster.list_pods_raw(&selection, token.take()).await {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = sender.send(Ahead::Failed(e, continuing)).await;
                        return;
                    }
                };
                let next = seen.next(page.next.clone(), "pods");
                token = next.as_ref().ok().cloned().flatten();
                let ahead = Ahead::Page(Decoding::start(page, view), next);
                if sender.send(ahead).await.is_err() || token.is_none() {
                    return;
                }
            }
        });
        Listing { pages, task }
    }

    /// The next page in list order, or the failure that ended the list there.
    pub(crate) async fn next(&mut self) -> Result<Ahead> {
        // The task sends until the last page or a failure, which the caller stops at.
        self.pages
            .next()
            .await
            .ok_or_else(|| Error::client("list pods", "the listing ended early"))
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A fetched page's pods being decoded on a thread of the runtime's blocking pool.
pub(crate) struct Decoding(tokio::task::JoinHandle<(RawPodPage, serde_json::Result<Vec<Pod>>)>);

impl Decoding {
    pub(crate) fn start(mut page: RawPodPage, view: PodView) -> Decoding {
        Decoding(tokio::task::spawn_blocking(move || {
            let pods = page.pods(view);
            (page, pods)
        }))
    }

    /// The page and its pods (or where they do not read), once decoded.
    pub(crate) async fn done(self) -> Result<(RawPodPage, serde_json::Result<Vec<Pod>>)> {
        self.0.await.map_err(|e| Error::client("list pods", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn head(text: &str) -> ListHead {
        list_head(text.as_bytes()).unwrap()
    }

    fn expected(rv: &str, token: Option<&str>) -> ListHead {
        ListHead {
            resource_version: Some(rv.into()),
            continue_token: token.map(str::to_string),
        }
    }

    /// The names of the pods a page reads as, or its error.
    fn names(read: serde_json::Result<Vec<Pod>>) -> Result<Vec<String>, String> {
        read.map(|pods| {
            pods.into_iter()
                .map(|p| p.metadata.name.unwrap_or_default())
                .collect()
        })
        .map_err(|e| e.to_string())
    }

    /// What a page reads as in explain's view.
    fn picked(text: &str) -> Result<Vec<String>, String> {
        let picks: fn(&Pod) -> bool = |pod| pod.metadata.name.as_deref() == Some("b");
        names(list_items(
            &mut text.as_bytes().to_vec(),
            PodView::WholeIf(picks),
        ))
    }

    /// The same page read in one pass, whole: what the cutter's reading must agree with.
    fn one_pass(text: &str) -> Result<Vec<String>, String> {
        names(in_one_pass(text.as_bytes(), PodView::Whole))
    }

    #[test]
    fn explains_pages_read_their_items_as_one_pass_does() {
        let pod = |name: &str| {
            format!(r#"{{"metadata":{{"name":"{name}"}},"spec":{{"containers":[]}}}}"#)
        };
        let items = [pod("a"), pod("b"), pod("c")].join(",");
        for text in [
            format!(
                r#"{{"kind":"PodList","metadata":{{"resourceVersion":"1"}},"items":[{items}]}}"#
            ),
            format!(r#"  {{"items" : [ {items} ] , "kind":"PodList"}}  "#),
            r#"{"kind":"PodList","items":null}"#.to_string(),
            r#"{"kind":"PodList","items":[]}"#.to_string(),
            // Not one list object with items that read: left to the one pass, which places the
            // error (or reads what it reads).
            r#"{"kind":"PodList"}"#.to_string(),
            r#"{"kind":"PodList","items":5}"#.to_string(),
            format!(r#"{{"items":[{items}],"items":[]}}"#),
            format!(r#"{{"items":[{items}]}} {{"items":[]}}"#),
            format!(r#"{{"items":[{items}], "kind": }}"#),
            format!(r#"{{"items":[{items}, {{"metadata":{{"name":7}}}}]}}"#),
            r#"{"items":[{"metadata":{"name":"a"}} {"metadata":{"name":"b"}}]}"#.to_string(),
            r#"["not", "an", "object"]"#.to_string(),
        ] {
            assert_eq!(picked(&text), one_pass(&text), "{text}");
        }
        let mut bad = format!(r#"{{"items":[{}]}}"#, pod("a")).into_bytes();
        let at = bad.iter().position(|&b| b == b'a').unwrap();
        bad[at] = 0xff;
        let read =
            list_items(&mut bad.clone(), PodView::WholeIf(|_| true)).map_err(|e| e.to_string());
        let once = in_one_pass(&bad, PodView::Whole).map_err(|e| e.to_string());
        assert_eq!(read.map(|p| p.len()), once.map(|p| p.len()));
    }

    #[test]
    fn the_head_is_read_from_the_front_without_reading_the_items() {
        // Items that are not even JSON past the point where the head is complete: never read.
        let text = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"12","continue":"abc","remainingItemCount":3},"items":[{"metadata": not json"#;
        assert_eq!(head(text), expected("12", Some("abc")));
    }

    #[test]
    fn a_head_after_the_items_is_found_past_them() {
        let text = r#"{"items":[{"metadata":{"name":"a"}}],"metadata":{"resourceVersion":"7","continue":"t"}}"#;
        assert_eq!(head(text), expected("7", Some("t")));
    }

    #[test]
    fn the_last_page_has_no_continue_token() {
        let page = RawPodPage::new(
            br#"{"metadata":{"resourceVersion":"9","continue":""},"items":[]}"#.to_vec(),
        )
        .unwrap();
        assert_eq!((page.resource_version.as_str(), page.next), ("9", None));
        let mut page = RawPodPage::new(br#"{"items":null}"#.to_vec()).unwrap();
        assert_eq!((page.resource_version.as_str(), &page.next), ("", &None));
        assert!(
            page.pods(PodView::Whole).unwrap().is_empty(),
            "null items: none"
        );
    }

    #[test]
    fn a_body_that_is_not_a_list_is_an_error() {
        for text in ["", "not json", "[1,2]", r#""PodList""#, r#"{"metadata":7}"#] {
            assert!(list_head(text.as_bytes()).is_err(), "{text:?}");
        }
        assert!(list_head(br#"{"metadata":{}} trailing"#).is_err());
        let err = list_items(
            &mut br#"{"kind":"Status","metadata":{}}"#.to_vec(),
            PodView::Rows,
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing field `items`"), "{err}");
    }

    #[test]
    fn items_decode_in_order_without_managed_fields() {
        let pod = |name: &str| {
            json!({"metadata": {"name": name, "namespace": "shop",
                "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
        };
        let body = json!({"kind": "PodList", "apiVersion": "v1",
            "metadata": {"resourceVersion": "5"}, "items": [pod("a"), pod("b"), pod("c")]});
        let mut page = RawPodPage::new(serde_json::to_vec(&body).unwrap()).unwrap();
        let pods = page.pods(PodView::Whole).unwrap();
        let names: Vec<_> = pods
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(pods.iter().all(|p| p.metadata.managed_fields.is_none()));
    }

    fn named_b(pod: &Pod) -> bool {
        pod.metadata.name.as_deref() == Some("b")
    }

    #[test]
    fn whole_if_decodes_in_full_only_the_picked_pods() {
        let pod = |name: &str| {
            json!({"metadata": {"name": name, "namespace": "shop"},
                "spec": {"containers": [{"name": "app", "image": "nginx",
                    "env": [{"name": "MODE", "value": "x"}]}],
                    "volumes": [{"name": "data", "emptyDir": {}}]}})
        };
        let body = json!({"metadata": {}, "items": [pod("a"), pod("b"), pod("c")]});
        let view = PodView::WholeIf(named_b);
        let pods = list_items(&mut serde_json::to_vec(&body).unwrap(), view).unwrap();
        let whole: Vec<_> = pods
            .iter()
            .map(|p| p.spec.as_ref().unwrap().volumes.is_some())
            .collect();
        assert_eq!(whole, [false, true, false], "only b is decoded whole");
        assert_eq!(
            pods[1].spec.as_ref().unwrap().containers[0]
                .env
                .as_ref()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_picked_pod_reads_whole_as_its_text_does_whatever_its_managed_fields() {
        let managed = json!([{"manager": "kubelet", "operation": "Update", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {"k:{\"type\":\"Ready\"}": {".": {}}}}}]);
        let pod = |name: &str, managed: &str| {
            format!(
                r#"{{"metadata":{{"name":"{name}","managedFields":{managed},"labels":{{"app":"x"}}}},
                "spec":{{"containers":[{{"name":"c","image":"i","env":[{{"name":"A","value":"1"}}]}}]}},
                "status":{{"phase":"Pending"}}}}"#
            )
        };
        let managed = managed.to_string();
        let items = [
            pod("a", &managed),
            pod("b", "null"),
            pod("c", r#""""#),
            // Given twice (serde passes over both), and a managedFields key elsewhere.
            pod("d", &format!(r#"{managed},"managedFields":{managed}"#)),
            pod("e", &managed).replace(r#""env""#, r#""managedFields":[1],"env""#),
        ];
        let text = format!(r#"{{"items":[{}]}}"#, items.join(","));
        let read = list_items(&mut text.clone().into_bytes(), PodView::WholeIf(|_| true)).unwrap();
        let whole = in_one_pass(text.as_bytes(), PodView::Whole).unwrap();
        assert_eq!(read, whole);
        // Read by hand, not left to the one pass.
        assert_eq!(picked_items(text.as_bytes(), |_| true), Ok(whole));
        assert!(read[0].spec.as_ref().unwrap().containers[0].env.is_some());
    }

    #[test]
    fn whole_if_reports_a_picked_pod_that_does_not_read_with_its_place() {
        let body = br#"{"metadata":{},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"},"spec":{"volumes":7}}]}"#;
        let err = list_items(&mut body.to_vec(), PodView::WholeIf(named_b)).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        assert!(err.to_string().contains("column 94"), "{err}");
    }

    #[test]
    fn a_bad_item_is_an_error_with_its_place() {
        let body =
            br#"{"metadata":{},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":7}}]}"#;
        let err = list_items(&mut body.to_vec(), PodView::Whole).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        assert!(err.to_string().contains("column"), "{err}");
    }
}
