//! WATCH: initial events, the optional initial-events-end bookmark, then store events as
//! they happen, filtered by the selectors.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::http::Call;
use super::list::selectors;
use super::status::ApiError;
use super::store::{self, meta_str};
use super::{Body, Shared, Target};

fn watch_line(kind: &str, obj: &Value) -> Bytes {
    let mut line = json!({"type": kind, "object": obj}).to_string();
    line.push('\n');
    Bytes::from(line)
}

pub(super) fn watch(
    shared: &Arc<Shared>,
    target: &Target,
    call: &Call,
) -> Result<Response<Body>, ApiError> {
    let (labels, fields) = selectors(target, call)?;
    let matches = move |o: &Value| labels.matches(o) && fields.matches(o);
    let from = call
        .param("resourceVersion")
        .filter(|rv| *rv != "0")
        .map(|rv| {
            rv.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "resourceVersion: Invalid value: \"{rv}\": must be a numeric value"
                ))
            })
        });
    let from = from.transpose()?;
    let send_initial = call.flag("sendInitialEvents") || from.is_none();
    let bookmark_end = call.flag("sendInitialEvents") && call.flag("allowWatchBookmarks");
    let (res, ns) = (target.res, target.ns.clone());
    let in_scope = move |e: &store::Event| {
        std::ptr::eq(e.res, res)
            && ns
                .as_deref()
                .is_none_or(|ns| ns == meta_str(&e.obj, "namespace"))
    };
    let (initial, subscribed, rv_now) = {
        let state = shared.lock();
        let initial: Vec<Value> = if send_initial {
            state
                .store
                .list(target.res, target.ns.as_deref())
                .into_iter()
                .filter(|o| matches(o))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let rv_now = state.store.current_rv();
        (
            initial,
            state.store.subscribe(from.unwrap_or(rv_now)),
            rv_now,
        )
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let deadline = call
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);
    let drop_after = call.drop_watch_after;
    let kind = target.res.kind;
    let api_version = target.res.api_version();
    let task = async move {
        let (backlog, mut rx_events) = match subscribed {
            Ok(s) => s,
            Err(err) => {
                let _ = tx.send(watch_line("ERROR", &err.to_json())).await;
                return;
            }
        };
        let mut sent = 0usize;
        let limit_hit = |sent: usize| drop_after.is_some_and(|n| sent >= n);
        for obj in &initial {
            if limit_hit(sent) || tx.send(watch_line("ADDED", obj)).await.is_err() {
                return;
            }
            sent += 1;
        }
        if bookmark_end {
            let bookmark = json!({"kind": kind, "apiVersion": api_version, "metadata": {
                "resourceVersion": rv_now.to_string(),
                "annotations": {"k8s.io/initial-events-end": "true"}}});
            if tx.send(watch_line("BOOKMARK", &bookmark)).await.is_err() {
                return;
            }
        }
        let mut pending = backlog.into_iter();
        loop {
            if limit_hit(sent) {
                return;
            }
            let event = match pending.next() {
                Some(e) => e,
                None => match rx_events.recv().await {
                    Ok(e) => e,
                    Err(_) => return,
                },
            };
            if !in_scope(&event) {
                continue;
            }
            let now_in = event.kind != "DELETED" && matches(&event.obj);
            let was_in = match event.kind {
                "ADDED" => false,
                "DELETED" => matches(&event.obj),
                _ => event.prev.as_ref().is_some_and(&matches),
            };
            let kind = match (was_in, now_in) {
                (true, true) => "MODIFIED",
                (false, true) => "ADDED",
                (true, false) => "DELETED",
                (false, false) => continue,
            };
            if tx.send(watch_line(kind, &event.obj)).await.is_err() {
                return;
            }
            sent += 1;
        }
    };
    tokio::spawn(async move {
        match deadline {
            Some(d) => {
                let _ = tokio::time::timeout(d, task).await;
            }
            None => task.await,
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok(Frame::data(b)), rx))
    });
    Ok(Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-cache, private")
        .body(StreamBody::new(stream).boxed())
        .expect("watch response"))
}
