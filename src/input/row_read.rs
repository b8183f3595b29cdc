//! The Rows view (`row_pod`) read straight from JSON text, without serde_json: the fields a row
//! needs read as they come, everything else passed over by its brackets 64 bytes at a time
//! (`json_split::container_end`). serde_json stepping through the fields a row never reads
//! (volumes, mounts, probes, env, …) was a fifth of `status -A`, and its machinery around the
//! ones it does read most of the rest (docs/benchmarks.md).
//!
//! It takes only what serde_json takes to the same value, and declines the rest: anything of
//! another type than serde's derive expects, a field given twice, a number that is not a plain
//! integer in range, a string with a control character or a lone surrogate, a struct given as
//! an array. The caller then reads the text with serde_json, which either takes it (to the same
//! Pod) or says where it is wrong: errors keep serde_json's words and places. Container states
//! and owner references are read as k8s-openapi's own decoders read them.
//!
//! What a row never reads (managedFields among it) is passed over by its brackets and quotes
//! only, as managedFields were before (docs/status.md): a value broken inside such a field
//! reads here, where serde_json would have refused the page.

use std::collections::BTreeMap;
use std::ops::Range;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, Pod,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde::de::value::{Error as ValueError, StrDeserializer};

pub(crate) use crate::input::json_cursor::Declined;
use crate::input::json_cursor::{Cursor, Read};
use crate::input::newest::utc_second;
use crate::input::pod_json::WireMeta;
use crate::input::row_pod::{
    RowCondition, RowContainer, RowContainerStatus, RowPod, RowSpec, RowStatus,
};

/// A list item's own text, as the Rows view read it.
pub(crate) struct ItemText<'a> {
    pub(crate) text: &'a str,
    /// Where its `metadata.managedFields` value is in `text` (the last, if given twice).
    managed_fields: Option<Range<usize>>,
}

impl<'a> ItemText<'a> {
    /// The text with its managedFields value (passed over already, by the Rows view) given as
    /// `[]`, for a reader that does not read them: serde_json would otherwise step through all
    /// of them, or they would be found again and blanked (a twentieth of `explain -A`).
    pub(crate) fn without_managed_fields<'b>(&self, scratch: &'b mut String) -> &'b str
    where
        'a: 'b,
    {
        let Some(span) = &self.managed_fields else {
            return self.text;
        };
        scratch.clear();
        scratch.push_str(&self.text[..span.start]);
        scratch.push_str("[]");
        scratch.push_str(&self.text[span.end..]);
        scratch
    }
}

/// The items of a pod LIST body in the Rows view, as `cluster::pod_pages` reads them with serde
/// (`items` required, `null` no items, every other key passed over), each handed to `then` with
/// its own text (which keeps it or reads that text again, declining if that does not read).
pub(crate) fn list_rows(
    text: &str,
    capacity: usize,
    mut then: impl FnMut(Pod, ItemText) -> Read<Pod>,
) -> Read<Vec<Pod>> {
    let mut cursor = Cursor::new(text);
    let mut items: Option<Vec<Pod>> = None;
    cursor.object(|c, key| {
        if key != "items" {
            return c.skip();
        }
        if items.is_some() {
            return Err(Declined);
        }
        let mut pods = Vec::new();
        if !c.null()? {
            pods.reserve(capacity);
            c.array(|c| {
                let start = c.value_start();
                let mut managed_fields = None;
                let rows = row_pod(c, &mut managed_fields)?.into_pod();
                let item = ItemText {
                    text: &text[start..c.at()],
                    managed_fields: managed_fields.map(|span| span.start - start..span.end - start),
                };
                pods.push(then(rows, item)?);
                Ok(())
            })?;
        }
        items = Some(pods);
        Ok(())
    })?;
    cursor.end()?;
    items.ok_or(Declined)
}

/// One Pod's text in the Rows view.
pub(crate) fn pod_rows(text: &str) -> Read<Pod> {
    pod_row(text).map(RowPod::into_pod)
}

/// One Pod's text in the Rows view, as read (small to keep: a `Pod` made of it is several
/// times its size).
pub(crate) fn pod_row(text: &str) -> Read<RowPod> {
    let mut cursor = Cursor::new(text);
    let pod = row_pod(&mut cursor, &mut None)?;
    cursor.end()?;
    Ok(pod)
}

/// Which fields of a struct were read: serde's derive refuses one given twice.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, field: u32) -> Read<()> {
        let bit = 1 << field;
        if self.0 & bit != 0 {
            return Err(Declined);
        }
        self.0 |= bit;
        Ok(())
    }

    /// An `Option` field, numbered `field` in its struct, read once into `slot` (null is None).
    fn read<'a, T>(
        &mut self,
        field: u32,
        c: &mut Cursor<'a>,
        slot: &mut Option<T>,
        read: impl FnOnce(&mut Cursor<'a>) -> Read<T>,
    ) -> Read<()> {
        self.first(field)?;
        *slot = c.option(read)?;
        Ok(())
    }
}

/// A Pod's Rows view; where its metadata's managedFields value is in the text, in
/// `managed_fields`.
fn row_pod(c: &mut Cursor, managed_fields: &mut Option<Range<usize>>) -> Read<RowPod> {
    let mut seen = Seen::default();
    let mut pod = RowPod {
        metadata: WireMeta::default(),
        spec: None,
        status: None,
    };
    c.object(|c, key| match key {
        "metadata" => {
            seen.first(0)?;
            pod.metadata = meta(c, managed_fields)?;
            Ok(())
        }
        "spec" => seen.read(1, c, &mut pod.spec, spec),
        "status" => seen.read(2, c, &mut pod.status, status),
        _ => c.skip(),
    })?;
    Ok(pod)
}

fn meta(c: &mut Cursor, managed_fields: &mut Option<Range<usize>>) -> Read<WireMeta> {
    let mut seen = Seen::default();
    let mut meta = WireMeta::default();
    c.object(|c, key| match key {
        "annotations" => seen.read(0, c, &mut meta.annotations, string_map),
        "creationTimestamp" => seen.read(1, c, &mut meta.creation_timestamp, time),
        "deletionGracePeriodSeconds" => {
            seen.read(2, c, &mut meta.deletion_grace_period_seconds, Cursor::i64)
        }
        "deletionTimestamp" => seen.read(3, c, &mut meta.deletion_timestamp, time),
        "finalizers" => seen.read(4, c, &mut meta.finalizers, |c| list(c, Cursor::string)),
        "generateName" => seen.read(5, c, &mut meta.generate_name, Cursor::string),
        "generation" => seen.read(6, c, &mut meta.generation, Cursor::i64),
        "labels" => seen.read(7, c, &mut meta.labels, string_map),
        "name" => seen.read(8, c, &mut meta.name, Cursor::string),
        "namespace" => seen.read(9, c, &mut meta.namespace, Cursor::string),
        "ownerReferences" => seen.read(10, c, &mut meta.owner_references, |c| {
            list(c, owner_reference)
        }),
        "resourceVersion" => seen.read(11, c, &mut meta.resource_version, Cursor::string),
        "uid" => seen.read(12, c, &mut meta.uid, Cursor::string),
        "managedFields" => {
            let start = c.value_start();
            c.skip()?;
            *managed_fields = Some(start..c.at());
            Ok(())
        }
        _ => c.skip(),
    })?;
    Ok(meta)
}

fn spec(c: &mut Cursor) -> Read<RowSpec> {
    let mut seen = Seen::default();
    let mut spec = RowSpec {
        containers: None,
        host_network: None,
        init_containers: None,
        node_name: None,
        restart_policy: None,
        scheduler_name: None,
        service_account_name: None,
    };
    c.object(|c, key| match key {
        "containers" => seen.read(0, c, &mut spec.containers, |c| list(c, container)),
        "hostNetwork" => seen.read(1, c, &mut spec.host_network, Cursor::bool),
        "initContainers" => seen.read(2, c, &mut spec.init_containers, |c| list(c, container)),
        "nodeName" => seen.read(3, c, &mut spec.node_name, Cursor::string),
        "restartPolicy" => seen.read(4, c, &mut spec.restart_policy, Cursor::string),
        "schedulerName" => seen.read(5, c, &mut spec.scheduler_name, Cursor::string),
        "serviceAccountName" => seen.read(6, c, &mut spec.service_account_name, Cursor::string),
        _ => c.skip(),
    })?;
    Ok(spec)
}

fn container(c: &mut Cursor) -> Read<RowContainer> {
    let mut seen = Seen::default();
    let mut container = RowContainer {
        name: None,
        image: None,
        restart_policy: None,
    };
    c.object(|c, key| match key {
        "name" => seen.read(0, c, &mut container.name, Cursor::string),
        "image" => seen.read(1, c, &mut container.image, Cursor::string),
        "restartPolicy" => seen.read(2, c, &mut container.restart_policy, Cursor::string),
        _ => c.skip(),
    })?;
    Ok(container)
}

fn status(c: &mut Cursor) -> Read<RowStatus> {
    let mut seen = Seen::default();
    let mut status = RowStatus {
        conditions: None,
        container_statuses: None,
        init_container_statuses: None,
        message: None,
        nominated_node_name: None,
        phase: None,
        pod_ip: None,
        reason: None,
    };
    c.object(|c, key| match key {
        "conditions" => seen.read(0, c, &mut status.conditions, |c| list(c, condition)),
        "containerStatuses" => seen.read(1, c, &mut status.container_statuses, |c| {
            list(c, container_status)
        }),
        "initContainerStatuses" => seen.read(2, c, &mut status.init_container_statuses, |c| {
            list(c, container_status)
        }),
        "message" => seen.read(3, c, &mut status.message, Cursor::string),
        "nominatedNodeName" => seen.read(4, c, &mut status.nominated_node_name, Cursor::string),
        "phase" => seen.read(5, c, &mut status.phase, Cursor::string),
        "podIP" => seen.read(6, c, &mut status.pod_ip, Cursor::string),
        "reason" => seen.read(7, c, &mut status.reason, Cursor::string),
        _ => c.skip(),
    })?;
    Ok(status)
}

fn condition(c: &mut Cursor) -> Read<RowCondition> {
    let mut seen = Seen::default();
    let mut condition = RowCondition {
        type_: None,
        status: None,
        reason: None,
        message: None,
    };
    c.object(|c, key| match key {
        "type" => seen.read(0, c, &mut condition.type_, Cursor::string),
        "status" => seen.read(1, c, &mut condition.status, Cursor::string),
        "reason" => seen.read(2, c, &mut condition.reason, Cursor::string),
        "message" => seen.read(3, c, &mut condition.message, Cursor::string),
        _ => c.skip(),
    })?;
    Ok(condition)
}

fn container_status(c: &mut Cursor) -> Read<RowContainerStatus> {
    let mut seen = Seen::default();
    let mut status = RowContainerStatus {
        image: None,
        image_id: None,
        last_state: None,
        name: None,
        ready: None,
        restart_count: None,
        started: None,
        state: None,
    };
    c.object(|c, key| match key {
        "image" => seen.read(0, c, &mut status.image, Cursor::string),
        "imageID" => seen.read(1, c, &mut status.image_id, Cursor::string),
        "lastState" => seen.read(2, c, &mut status.last_state, container_state),
        "name" => seen.read(3, c, &mut status.name, Cursor::string),
        "ready" => seen.read(4, c, &mut status.ready, Cursor::bool),
        "restartCount" => seen.read(5, c, &mut status.restart_count, Cursor::i32),
        "started" => seen.read(6, c, &mut status.started, Cursor::bool),
        "state" => seen.read(7, c, &mut status.state, container_state),
        _ => c.skip(),
    })?;
    Ok(status)
}

// The types below are read as k8s-openapi's own decoders read them: a key given twice keeps its
// last value, null is absent, and a field it calls required is its default when absent.

fn container_state(c: &mut Cursor) -> Read<ContainerState> {
    let mut state = ContainerState {
        running: None,
        terminated: None,
        waiting: None,
    };
    c.object(|c, key| {
        match key {
            "running" => state.running = c.option(running)?,
            "terminated" => state.terminated = c.option(terminated)?,
            "waiting" => state.waiting = c.option(waiting)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(state)
}

fn running(c: &mut Cursor) -> Read<ContainerStateRunning> {
    let mut running = ContainerStateRunning { started_at: None };
    c.object(|c, key| {
        match key {
            "startedAt" => running.started_at = c.option(time)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(running)
}

fn terminated(c: &mut Cursor) -> Read<ContainerStateTerminated> {
    let mut exit_code = None;
    let mut terminated = ContainerStateTerminated {
        container_id: None,
        exit_code: 0,
        finished_at: None,
        message: None,
        reason: None,
        signal: None,
        started_at: None,
    };
    c.object(|c, key| {
        match key {
            "containerID" => terminated.container_id = c.option(Cursor::string)?,
            "exitCode" => exit_code = c.option(Cursor::i32)?,
            "finishedAt" => terminated.finished_at = c.option(time)?,
            "message" => terminated.message = c.option(Cursor::string)?,
            "reason" => terminated.reason = c.option(Cursor::string)?,
            "signal" => terminated.signal = c.option(Cursor::i32)?,
            "startedAt" => terminated.started_at = c.option(time)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    terminated.exit_code = exit_code.unwrap_or_default();
    Ok(terminated)
}

fn waiting(c: &mut Cursor) -> Read<ContainerStateWaiting> {
    let mut waiting = ContainerStateWaiting {
        message: None,
        reason: None,
    };
    c.object(|c, key| {
        match key {
            "message" => waiting.message = c.option(Cursor::string)?,
            "reason" => waiting.reason = c.option(Cursor::string)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(waiting)
}

fn owner_reference(c: &mut Cursor) -> Read<OwnerReference> {
    let [mut api_version, mut kind, mut name, mut uid] = [None, None, None, None];
    let (mut block_owner_deletion, mut controller) = (None, None);
    c.object(|c, key| {
        match key {
            "apiVersion" => api_version = c.option(Cursor::string)?,
            "blockOwnerDeletion" => block_owner_deletion = c.option(Cursor::bool)?,
            "controller" => controller = c.option(Cursor::bool)?,
            "kind" => kind = c.option(Cursor::string)?,
            "name" => name = c.option(Cursor::string)?,
            "uid" => uid = c.option(Cursor::string)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(OwnerReference {
        api_version: api_version.unwrap_or_default(),
        block_owner_deletion,
        controller,
        kind: kind.unwrap_or_default(),
        name: name.unwrap_or_default(),
        uid: uid.unwrap_or_default(),
    })
}

/// A JSON array, each element read by `element`.
fn list<'a, T>(
    c: &mut Cursor<'a>,
    mut element: impl FnMut(&mut Cursor<'a>) -> Read<T>,
) -> Read<Vec<T>> {
    let mut out = Vec::new();
    c.array(|c| {
        out.push(element(c)?);
        Ok(())
    })?;
    Ok(out)
}

/// Labels and annotations: as serde fills a map, a key given twice keeps its last value.
fn string_map(c: &mut Cursor) -> Read<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    c.object(|c, key| {
        let key = key.to_owned();
        map.insert(key, c.string()?);
        Ok(())
    })?;
    Ok(map)
}

/// A `Time` as k8s-openapi reads it: the string through jiff's own deserializer, or, written
/// as the API server writes every time, taken apart here ([`api_time`]).
fn time(c: &mut Cursor) -> Read<Time> {
    let text = c.str()?;
    if let Some(time) = api_time(&text) {
        return Ok(Time(time));
    }
    let deserializer = StrDeserializer::<ValueError>::new(&text);
    Timestamp::deserialize(deserializer)
        .map(Time)
        .map_err(|_| Declined)
}

/// A time in the one form the API server writes (`YYYY-MM-DDTHH:MM:SSZ`, as
/// `newest::utc_second` knows it, without a fraction), its fields made a moment by jiff's civil
/// types; None for any other form or a moment that does not exist (left to jiff's parser, which
/// reads or refuses it). The parser took ~850 instructions a time, 3% of `status -A` at 10k.
fn api_time(text: &str) -> Option<Timestamp> {
    let b = utc_second(text.as_bytes()).filter(|_| text.len() == 20)?;
    // Two digits (checked as digits): at most 99, an i8.
    let small = |at: usize| ((b[at] - b'0') * 10 + (b[at + 1] - b'0')) as i8;
    let year = i16::from(small(0)) * 100 + i16::from(small(2));
    let (month, day) = (small(5), small(8));
    let (hour, minute, second) = (small(11), small(14), small(17));
    let civil =
        k8s_openapi::jiff::civil::DateTime::new(year, month, day, hour, minute, second, 0).ok()?;
    k8s_openapi::jiff::tz::Offset::UTC.to_timestamp(civil).ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::input::pod_json::PodView;
    use serde::de::DeserializeSeed;

    /// The Rows view as serde_json reads it.
    fn by_serde(text: &str) -> serde_json::Result<Pod> {
        let mut de = serde_json::Deserializer::from_str(text);
        let pod = PodView::Rows.deserialize(&mut de)?;
        de.end()?;
        Ok(pod)
    }

    /// Rows read here, or declined; never a different Pod than serde_json reads, and never a
    /// Pod where serde_json finds an error outside a skipped value.
    fn agrees(text: &str) -> Option<Pod> {
        let serde = by_serde(text);
        match pod_rows(text) {
            Ok(pod) => {
                assert_eq!(Some(&pod), serde.as_ref().ok(), "{text}");
                Some(pod)
            }
            Err(Declined) => None,
        }
    }

    #[test]
    fn a_plain_pod_reads_as_serde_reads_it() {
        let text = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"shop",
            "uid":"u","resourceVersion":"42","generateName":"web-","generation":3,
            "creationTimestamp":"2026-11-01T10:00:00Z","deletionTimestamp":null,
            "deletionGracePeriodSeconds":30,"labels":{"app":"web","app":"web2"},
            "annotations":{"a":"b"},"finalizers":["f"],
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"web","uid":"s","controller":true}],
            "managedFields":[{"manager":"kubelet","fieldsV1":{"f:status":{}}}]},
          "spec":{"volumes":[{"name":"v","emptyDir":{}}],"initContainers":[{"name":"init","image":"busybox",
            "restartPolicy":"Always","command":["sh","-c","echo \"hi\" ]}"]}],
            "containers":[{"name":"app","image":"nginx","ports":[{"containerPort":80}]}],
            "nodeName":"n1","hostNetwork":false,"restartPolicy":"Always","priority":-5},
          "status":{"phase":"Running","podIP":"10.0.0.1","conditions":[{"type":"Ready","status":"True",
            "lastTransitionTime":"2026-11-01T10:00:05Z"}],"initContainerStatuses":[{"name":"init",
            "ready":true,"restartCount":2,"started":true,"image":"busybox","imageID":"x",
            "containerID":"containerd://1","state":{"running":{"startedAt":"2026-11-01T10:00:01Z"}},
            "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"2026-11-01T10:00:00Z"}}}],
            "containerStatuses":[{"name":"app","ready":false,"restartCount":0,
            "state":{"waiting":{"reason":"ErrImagePull","message":"pull \"nginx\": \u00e9 \ud83d\ude00 \n"}}}]}}"#;
        let pod = agrees(text).expect("read here");
        assert_eq!(pod.metadata.labels.unwrap()["app"], "web2");
        assert_eq!(pod.spec.unwrap().init_containers.unwrap()[0].name, "init");
    }

    #[test]
    fn what_serde_refuses_is_declined() {
        for text in [
            r#"{"metadata":{"name":7}}"#,
            r#"{"metadata":null}"#,
            r#"{"metadata":{"name":"a","name":"b"}}"#,
            r#"{"spec":{"containers":[{"name":"a","image":1}]}}"#,
            r#"{"spec":{"containers":[null]}}"#,
            r#"{"spec":{"containers":[["a"]]}}"#,
            r#"{"status":{"containerStatuses":[{"name":"a","ready":"yes"}]}}"#,
            r#"{"status":{"containerStatuses":[{"restartCount":1.0}]}}"#,
            r#"{"status":{"containerStatuses":[{"restartCount":1e2}]}}"#,
            r#"{"status":{"containerStatuses":[{"restartCount":01}]}}"#,
            r#"{"status":{"containerStatuses":[{"restartCount":2147483648}]}}"#,
            r#"{"status":{"containerStatuses":[{"state":{"waiting":{"reason":5}}}]}}"#,
            r#"{"status":{"conditions":[{"type":"Ready","status":true}]}}"#,
            r#"{"metadata":{"creationTimestamp":"yesterday"}}"#,
            r#"{"metadata":{"name":"a\ud800"}}"#,
            r#"{"metadata":{"name":"a\x"}}"#,
            "{\"metadata\":{\"name\":\"a\u{1}\"}}",
            r#"{"metadata":{"name":"a"},}"#,
            r#"{"metadata":{"name":"a"}} x"#,
            r#"[{"name":"a"}]"#,
            r#"{"metadata":{"name":"a"}"#,
        ] {
            assert_eq!(pod_rows(text), Err(Declined), "{text}");
        }
    }

    #[test]
    fn missing_and_null_fields_read_as_serde_reads_them() {
        for text in [
            "{}",
            r#"{"spec":null,"status":null}"#,
            r#"{"spec":{},"status":{}}"#,
            r#"{"spec":{"containers":null,"initContainers":[{"name":null}]}}"#,
            r#"{"status":{"containerStatuses":[{"name":"a","state":null,"lastState":{}}],"conditions":[{}]}}"#,
            r#"{"metadata":{"labels":null,"annotations":{},"ownerReferences":null}}"#,
            r#" { "metadata" : { "name" : "a" } , "x" : [ 1 , { "y" : "]" } ] , "z" : -1.5e3 } "#,
        ] {
            assert!(agrees(text).is_some(), "{text}");
        }
    }

    #[test]
    fn a_list_reads_its_items_as_serde_reads_them() {
        let text = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"t"},
            "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"},"status":{"phase":"Running"}}]}"#;
        let pods = list_rows(text, 2, |pod, _| Ok(pod)).unwrap();
        let names: Vec<_> = pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        // Each item's own text, to read again.
        let mut texts = Vec::new();
        list_rows(text, 2, |pod, item| {
            texts.push(item.text.to_string());
            Ok(pod)
        })
        .unwrap();
        assert_eq!(
            texts,
            [
                r#"{"metadata":{"name":"a"}}"#,
                r#"{"metadata":{"name":"b"},"status":{"phase":"Running"}}"#
            ]
        );
        assert_eq!(
            list_rows(r#"{"items":null}"#, 0, |p, _| Ok(p)).unwrap(),
            vec![]
        );
        for text in [
            r#"{"metadata":{}}"#,
            r#"{"items":[],"items":[]}"#,
            r#"{"items":[{"metadata":{"name":1}}]}"#,
            r#"{"items":{}}"#,
        ] {
            assert_eq!(list_rows(text, 0, |p, _| Ok(p)), Err(Declined), "{text}");
        }
    }

    /// A pod with every field the Rows view reads, and some it does not.
    fn sample() -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "shop", "uid": "u", "resourceVersion": "4",
                "generateName": "web-", "generation": 2, "creationTimestamp": "2026-11-01T10:00:00Z",
                "deletionTimestamp": "2026-11-02T10:00:00Z", "deletionGracePeriodSeconds": 30,
                "labels": {"app": "web"}, "annotations": {"a": "b"}, "finalizers": ["f"],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                    "uid": "r", "controller": true, "blockOwnerDeletion": true}],
                "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]},
            "spec": {"nodeName": "n1", "hostNetwork": true, "restartPolicy": "Always",
                "schedulerName": "default-scheduler", "serviceAccountName": "default",
                "volumes": [{"name": "v", "emptyDir": {}}],
                "initContainers": [{"name": "init", "image": "busybox", "restartPolicy": "Always",
                    "command": ["sh", "-c", "sleep 1"]}],
                "containers": [{"name": "app", "image": "nginx", "env": [{"name": "A", "value": "1"}]}]},
            "status": {"phase": "Pending", "reason": "r", "message": "m", "podIP": "10.0.0.1",
                "nominatedNodeName": "n2",
                "conditions": [{"type": "Ready", "status": "False", "reason": "x", "message": "y",
                    "lastTransitionTime": "2026-11-01T10:00:05Z"}],
                "initContainerStatuses": [{"name": "init", "image": "busybox", "imageID": "i",
                    "containerID": "c", "ready": false, "restartCount": 3, "started": false,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                        "startedAt": "2026-11-01T10:00:01Z", "finishedAt": "2026-11-01T10:00:02Z"}}}],
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}}}]}
        })
    }

    use proptest::prelude::*;
    use serde_json::Value;

    /// JSON values of the kinds a mutation puts anywhere in a pod: each type a field could
    /// wrongly have, numbers at the edges of the integer types, strings with escapes, empty and
    /// time strings; objects with `keys` and short made-up ones.
    pub(crate) fn json_value(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![
                Just(i64::from(i32::MAX)),
                Just(i64::from(i32::MAX) + 1),
                Just(i64::MIN),
                any::<i32>().prop_map(i64::from),
                any::<i64>(),
            ]
            .prop_map(Value::from),
            Just(Value::from(u64::MAX)),
            (-1e3f64..1e3).prop_map(Value::from),
            "[a-z\"\\\\/\u{0}-\u{1f}\u{e9}\u{1F600}]{0,6}".prop_map(Value::String),
            // (Newer than every time in the samples: it becomes their newest.)
            Just(Value::String("2026-12-01T10:00:00Z".into())),
            Just(Value::String(String::new())),
        ];
        leaf.prop_recursive(3, 16, 4, move |inner| {
            let key = prop_oneof![
                prop::sample::select(keys).prop_map(str::to_string),
                "[a-z]{1,3}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key, inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// `pod` with the node at `path` (indices taken modulo each level's length) replaced by
    /// `with`, or given a new key `added` if it is an object and `add` holds.
    pub(crate) fn mutate(node: &mut Value, path: &[usize], with: Value, add: Option<&str>) {
        if let Some((&step, rest)) = path.split_first() {
            match node {
                Value::Object(map) if !map.is_empty() => {
                    let key = map.keys().nth(step % map.len()).unwrap().clone();
                    return mutate(map.get_mut(&key).unwrap(), rest, with, add);
                }
                Value::Array(list) if !list.is_empty() => {
                    let at = step % list.len();
                    return mutate(&mut list[at], rest, with, add);
                }
                _ => {}
            }
        }
        match (node.as_object_mut(), add) {
            (Some(map), Some(key)) => {
                map.insert(key.to_string(), with);
            }
            _ => *node = with,
        }
    }

    proptest! {
        #[test]
        fn a_mutated_pod_reads_as_serde_reads_it_or_is_declined(
            path in prop::collection::vec(any::<usize>(), 1..7),
            with in json_value(&["name", "running", "startedAt", "exitCode"]),
            add in prop::option::of(prop_oneof![
                Just("name"), Just("state"), Just("restartCount"), Just("labels"), Just("zz"),
            ]),
            pretty in any::<bool>(),
        ) {
            let mut pod = sample();
            mutate(&mut pod, &path, with, add);
            let text = match pretty {
                true => serde_json::to_string_pretty(&pod).unwrap(),
                false => pod.to_string(),
            };
            let serde = by_serde(&text);
            // Declined is always allowed: serde_json then reads it.
            if let Ok(read) = pod_rows(&text) {
                prop_assert_eq!(Some(&read), serde.as_ref().ok());
            }
            // Through the readers the commands use, the answer is serde_json's, error or Pod.
            let used = crate::input::pod_json::pod_from_str_as(PodView::Rows, &text);
            prop_assert_eq!(
                used.as_ref().map_err(ToString::to_string),
                serde.as_ref().map_err(ToString::to_string)
            );
        }
    }

    proptest! {
        /// A time in the API's form reads as jiff's parser reads it, and is refused where that
        /// refuses it (dates that do not exist, fields out of range, digits where none go).
        #[test]
        fn an_api_time_reads_as_jiff_reads_it(
            year in prop_oneof![0u32..10000, Just(1970), Just(2000), Just(2024), Just(2100)],
            month in 0u32..14,
            day in 0u32..33,
            hour in 0u32..25,
            minute in 0u32..61,
            second in 0u32..62,
            garbled in prop::option::of((0usize..20, any::<u8>())),
        ) {
            let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
            let mut bytes = text.into_bytes();
            if let Some((at, byte)) = garbled {
                bytes[at] = byte;
            }
            let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
            let parsed = text.parse::<Timestamp>().ok();
            match api_time(&text) {
                Some(time) => prop_assert_eq!(Some(time), parsed),
                // Left to the parser: only a form it may read differently (a leap second).
                None => prop_assert!(parsed.is_none() || second == 60 || garbled.is_some()),
            }
        }
    }

    proptest! {
        /// Any text, however broken or cut short: never a panic, and where both read it, the
        /// same Pod. (Broken text inside a value no row reads is read here and refused by
        /// serde_json: docs/status.md. The mutation test above, over valid JSON, is exact.)
        #[test]
        fn any_text_is_declined_or_read_as_serde_reads_it(
            cut in 0usize..2000,
            noise in "[{}\\[\\]\",:a-z0-9\\\\ .eE+-]{0,40}",
        ) {
            let whole = sample().to_string();
            let mut text = whole[..cut.min(whole.len())].to_string();
            text.push_str(&noise);
            if let (Ok(read), Ok(serde)) = (pod_rows(&text), by_serde(&text)) {
                prop_assert_eq!(read, serde);
            }
            let list = format!(r#"{{"items":[{text}"#);
            prop_assert!(list_rows(&list, 1, |p, _| Ok(p)).is_err());
        }
    }

    proptest! {
        /// Arbitrary text after each way into a field: no panic, and where both read it, the
        /// same Pod.
        #[test]
        fn arbitrary_text_never_panics(
            lead in prop_oneof![
                Just(""), Just("{\"x\":"), Just("{\"metadata\":{\"name\":"),
                Just("{\"status\":{\"containerStatuses\":[{\"restartCount\":"),
                Just("{\"spec\":{\"containers\":[{\"name\":\""),
            ],
            rest in ".{0,48}",
        ) {
            let text = format!("{lead}{rest}");
            if let (Ok(read), Ok(serde)) = (pod_rows(&text), by_serde(&text)) {
                prop_assert_eq!(read, serde);
            }
        }
    }

    #[test]
    fn strings_cut_short_are_declined() {
        for text in [
            r#"{"x":"abc\"#,
            r#"{"x":"abc"#,
            r#"{"metadata":{"name":"a\"#,
            r#"{"x":"\u12"#,
        ] {
            assert_eq!(pod_rows(text), Err(Declined), "{text}");
        }
    }

    #[test]
    fn the_sample_pod_is_read_here() {
        let text = sample().to_string();
        assert!(agrees(&text).is_some());
        assert!(agrees(&serde_json::to_string_pretty(&sample()).unwrap()).is_some());
    }

    #[test]
    fn indentation_of_any_width_and_kind_reads_alike() {
        let compact = agrees(&sample().to_string()).unwrap();
        let pretty = serde_json::to_string_pretty(&sample()).unwrap();
        // Runs of blanks shorter and longer than the eight bytes looked at together, and every
        // kind of JSON whitespace among them.
        for width in [1, 7, 8, 9, 17] {
            for blank in [" ", "\t", " \t", "\r\n "] {
                let indent = blank.repeat(width);
                let text = pretty.replace("\n", &format!("\n{indent}"));
                assert_eq!(agrees(&text).as_ref(), Some(&compact), "{width} {blank:?}");
            }
        }
    }
}
