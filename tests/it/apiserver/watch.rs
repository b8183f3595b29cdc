//! WATCH: initial events, the optional initial-events-end bookmark, then store events as
//! they happen, filtered by the selectors.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::http::Call;
use super::list::selectors;
use super::resources::ResourceDef;
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{Event, meta_str};
use super::{Body, Shared, Target};

pub(super) fn watch_line(kind: &str, obj: &Value) -> Bytes {
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
    let mut feed = Feed {
        initial: Vec::new(),
        bookmark: None,
        drop_after: call.drop_watch_after,
        res: target.res,
        ns: target.ns.clone(),
        labels,
        fields,
    };
    let subscribed = {
        let state = shared.lock();
        if send_initial {
            feed.initial = state
                .store
                .list(target.res, target.ns.as_deref())
                .into_iter()
                .filter(|o| feed.matches(o))
                .cloned()
                .collect();
        }
        let rv_now = state.store.current_rv();
        if bookmark_end {
            let metadata = json!({"resourceVersion": rv_now.to_string(),
                "annotations": {"k8s.io/initial-events-end": "true"}});
            let (kind, api_version) = (target.res.kind, target.res.api_version());
            feed.bookmark =
                Some(json!({"kind": kind, "apiVersion": api_version, "metadata": metadata}));
        }
        state.store.subscribe(from.unwrap_or(rv_now))
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let deadline = call
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);
    if let Some(line) = call.watch_line.clone() {
        let stream = futures::stream::iter([Ok(Frame::data(Bytes::from(format!("{line}\n"))))]);
        return Ok(Response::builder()
            .status(200)
            .header("Content-Type", "application/json")
            .body(StreamBody::new(stream).boxed())
            .expect("watch response"));
    }
    let task = feed.run(subscribed, tx);
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

/// What one watch sends, settled when it starts.
struct Feed {
    /// ADDED events for what already matches (empty when resuming from a resourceVersion).
    initial: Vec<Value>,
    /// The `k8s.io/initial-events-end` bookmark, when the client asked for it.
    bookmark: Option<Value>,
    /// A `Fault::drop_watch`: end the stream after this many events.
    drop_after: Option<usize>,
    res: &'static ResourceDef,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Feed {
    fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    fn in_scope(&self, event: &Event) -> bool {
        std::ptr::eq(event.res, self.res)
            && self
                .ns
                .as_deref()
                .is_none_or(|ns| ns == meta_str(&event.obj, "namespace"))
    }

    /// The type this watch reports a store event as, the way the watch cache does: a
    /// change that moves an object into (out of) the selection is ADDED (DELETED).
    fn event_type(&self, event: &Event) -> Option<&'static str> {
        let now_in = event.kind != "DELETED" && self.matches(&event.obj);
        let was_in = match event.kind {
            "ADDED" => false,
            "DELETED" => self.matches(&event.obj),
            _ => event.prev.as_ref().is_some_and(|p| self.matches(p)),
        };
        match (was_in, now_in) {
            (true, true) => Some("MODIFIED"),
            (false, true) => Some("ADDED"),
            (true, false) => Some("DELETED"),
            (false, false) => None,
        }
    }

    /// Sends the initial events, the bookmark, then the backlog and live events, until the
    /// client goes away, the drop limit is hit or the store closes.
    async fn run(
        self,
        subscribed: Result<(Vec<Event>, broadcast::Receiver<Event>), ApiError>,
        tx: mpsc::Sender<Bytes>,
    ) {
        let (backlog, mut rx_events) = match subscribed {
            Ok(s) => s,
            Err(err) => {
                let _ = tx.send(watch_line("ERROR", &err.to_json())).await;
                return;
            }
        };
        let mut sent = 0usize;
        let limit_hit = |sent: usize| self.drop_after.is_some_and(|n| sent >= n);
        for obj in &self.initial {
            if limit_hit(sent) || tx.send(watch_line("ADDED", obj)).await.is_err() {
                return;
            }
            sent += 1;
        }
        if let Some(bookmark) = &self.bookmark
            && tx.send(watch_line("BOOKMARK", bookmark)).await.is_err()
        {
            return;
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
            if !self.in_scope(&event) {
                continue;
            }
            let Some(kind) = self.event_type(&event) else {
                continue;
            };
            if tx.send(watch_line(kind, &event.obj)).await.is_err() {
                return;
            }
            sent += 1;
        }
    }
}
