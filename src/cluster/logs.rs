//! Container logs for `logs`: read line by line with every line bounded (a 100 MB line costs
//! 16 KiB), the whole read bounded by `limitBytes` when a tail is asked for; and following: the
//! running init container's log until it ends, then the pod watched until the next one runs,
//! until init completes (or, with app containers, until they end).

use std::collections::BTreeSet;
use std::io;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::{AsyncBufRead, AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{LogParams, WatchEvent};

use crate::cluster::Cluster;
use crate::cluster::client::log_limit_bytes;
use crate::error::{Error, Result};
use crate::status::container_logs::{self, ContainerLog, Progress};

/// What the user asked of each log.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogOptions {
    pub previous: bool,
    /// Last N lines (None: all).
    pub tail: Option<i64>,
    pub since_seconds: Option<i64>,
    pub timestamps: bool,
}

/// What is shown, in order; the command renders it.
pub(crate) enum Shown<'a> {
    Header(&'a ContainerLog),
    /// A log line; the container's name when several are followed at once.
    Line(Option<&'a str>, &'a str),
    NoLog(&'a str),
    /// A remark for stderr (why following stopped).
    Note(String),
}

pub(crate) type Show<'s> = dyn FnMut(Shown<'_>) -> io::Result<()> + 's;

/// How many logs were read and how many could not be.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub read: usize,
    pub failed: usize,
}

/// The longest line kept (bytes): 4096 characters of up to 4 bytes; the rest is counted.
const LINE_BYTES: usize = 16 * 1024;
/// The quoted length of a line (characters), as everywhere else.
const LINE_CHARS: usize = 4096;

type Reader = Pin<Box<dyn AsyncBufRead + Send>>;

/// Lines of a log stream, each at most [`LINE_CHARS`] characters with a marker saying how much
/// was cut.
struct Lines {
    reader: Reader,
}

impl Lines {
    async fn next(&mut self) -> io::Result<Option<String>> {
        let mut kept: Vec<u8> = Vec::new();
        let mut dropped_chars = 0usize;
        loop {
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                if kept.is_empty() && dropped_chars == 0 {
                    return Ok(None);
                }
                return Ok(Some(finish(&kept, dropped_chars)));
            }
            let newline = buf.iter().position(|b| *b == b'\n');
            let chunk = &buf[..newline.unwrap_or(buf.len())];
            let room = LINE_BYTES.saturating_sub(kept.len()).min(chunk.len());
            kept.extend_from_slice(&chunk[..room]);
            // Characters past the kept bytes: every byte that does not continue a character.
            dropped_chars += chunk[room..]
                .iter()
                .filter(|b| (**b & 0xC0) != 0x80)
                .count();
            let used = newline.map_or(buf.len(), |i| i + 1);
            self.reader.as_mut().consume(used);
            if newline.is_some() {
                return Ok(Some(finish(&kept, dropped_chars)));
            }
        }
    }
}

fn finish(bytes: &[u8], dropped_chars: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_suffix('\r').unwrap_or(&text);
    let chars = text.chars().count();
    if chars + dropped_chars <= LINE_CHARS {
        return text.to_string();
    }
    let end = text
        .char_indices()
        .nth(LINE_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let more = chars.saturating_sub(LINE_CHARS) + dropped_chars;
    format!("{}… [cut: {more} more characters]", &text[..end])
}

async fn open(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    container: &str,
    params: &LogParams,
) -> Result<Lines> {
    let params = LogParams {
        container: Some(container.to_string()),
        ..params.clone()
    };
    let reader = cluster
        .pods_in(namespace)
        .log_stream(pod, &params)
        .await
        .map_err(|e| cluster.kube_error("read logs", e))?;
    Ok(Lines {
        reader: Box::pin(reader),
    })
}

/// Why a log could not be read, in one line (the server's own words for a 400).
fn unreadable(e: &Error) -> String {
    if e.is_forbidden() {
        "pods/log is not readable: forbidden".into()
    } else {
        e.to_string()
    }
}

/// A container's log as it is now (no following): every line handed to `show`.
async fn read_now(
    cluster: &Cluster,
    pod: &Pod,
    c: &ContainerLog,
    opts: &LogOptions,
    show: &mut Show<'_>,
) -> Result<bool> {
    let (ns, name) = names(pod);
    let params = LogParams {
        previous: opts.previous,
        tail_lines: opts.tail,
        since_seconds: opts.since_seconds,
        timestamps: opts.timestamps,
        // With a tail, no more than its lines can need; without one the whole log is wanted
        // and streamed (each line bounded), as kubectl logs does.
        limit_bytes: opts.tail.map(|t| {
            i64::try_from(log_limit_bytes(u32::try_from(t).unwrap_or(u32::MAX))).unwrap_or(i64::MAX)
        }),
        ..Default::default()
    };
    let read = async {
        let mut lines = open(cluster, ns, name, &c.name, &params).await?;
        let mut budget = params.limit_bytes.map(|b| b as usize);
        while let Some(line) = lines
            .next()
            .await
            .map_err(|e| Error::client("read logs", e))?
        {
            if let Some(left) = budget.as_mut() {
                // A server that ignores limitBytes is not read past it.
                if *left == 0 {
                    break;
                }
                *left = left.saturating_sub(line.len() + 1);
            }
            show(Shown::Line(None, &line)).map_err(Error::Output)?;
        }
        Ok::<_, Error>(())
    };
    let outcome = match cluster.whole_bound() {
        Some((d, hit)) => tokio::time::timeout(d, read).await.unwrap_or(Err(hit)),
        None => read.await,
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(Error::Output(e)) => Err(Error::Output(e)),
        Err(e) => {
            show(Shown::NoLog(&unreadable(&e))).map_err(Error::Output)?;
            Ok(false)
        }
    }
}

fn names(pod: &Pod) -> (&str, &str) {
    (
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// Each container's header and log as they are now.
pub(crate) async fn show_now(
    cluster: &Cluster,
    pod: &Pod,
    containers: &[ContainerLog],
    opts: &LogOptions,
    show: &mut Show<'_>,
) -> Result<Tally> {
    let mut tally = Tally::default();
    for c in containers {
        show(Shown::Header(c)).map_err(Error::Output)?;
        if let Some(why) = &c.no_log {
            show(Shown::NoLog(why)).map_err(Error::Output)?;
            continue;
        }
        if read_now(cluster, pod, c, opts, show).await? {
            tally.read += 1;
        } else {
            tally.failed += 1;
        }
    }
    Ok(tally)
}

/// A log line with the timestamp the server put before it (follow always asks for them, so a
/// stream that broke can resume after the last line it gave).
fn split_stamp(line: &str) -> (Option<Timestamp>, &str) {
    match line.split_once(' ') {
        Some((stamp, rest)) => match stamp.parse::<Timestamp>() {
            Ok(t) => (Some(t), rest),
            Err(_) => (None, line),
        },
        None => (line.parse().ok(), ""),
    }
}

/// How often a broken follow is re-opened in a row before giving up.
const REOPENS: u32 = 5;

/// Follows one container's log until its stream ends (the container exited). A stream that
/// breaks (idle past the client's read bound, a dropped connection) is re-opened from the last
/// line's timestamp; lines already shown are not shown again.
async fn follow_one(
    cluster: &Cluster,
    pod: &Pod,
    c: &ContainerLog,
    prefix: Option<&str>,
    opts: &LogOptions,
    show: &mut Show<'_>,
) -> Result<bool> {
    let (ns, name) = names(pod);
    let mut last: Option<Timestamp> = None;
    let mut broken = 0;
    loop {
        let params = LogParams {
            follow: true,
            timestamps: true,
            tail_lines: if last.is_none() { opts.tail } else { None },
            since_seconds: if last.is_none() {
                opts.since_seconds
            } else {
                None
            },
            // sinceTime travels with whole seconds: ask from the second the last line is in
            // (lines up to it are skipped), so a line later in that second is not lost.
            since_time: last.and_then(|t| Timestamp::from_second(t.as_second()).ok()),
            ..Default::default()
        };
        let mut lines = match open(cluster, ns, name, &c.name, &params).await {
            Ok(lines) => lines,
            Err(e) if last.is_none() => {
                show(Shown::NoLog(&unreadable(&e))).map_err(Error::Output)?;
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        loop {
            match lines.next().await {
                Ok(Some(line)) => {
                    broken = 0;
                    let (stamp, text) = split_stamp(&line);
                    if let (Some(t), Some(l)) = (stamp, last)
                        && t <= l
                    {
                        continue;
                    }
                    last = stamp.or(last);
                    let shown = if opts.timestamps { line.as_str() } else { text };
                    show(Shown::Line(prefix, shown)).map_err(Error::Output)?;
                }
                Ok(None) => return Ok(true),
                Err(e) => {
                    broken += 1;
                    if broken > REOPENS {
                        return Err(Error::client("follow logs", e));
                    }
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(broken))).await;
                    break;
                }
            }
        }
    }
}

/// The pod's next version (None: it was deleted). Watches from its resourceVersion; a watch
/// that ends without news is followed by a fresh GET, never sooner than a second after the
/// last one, so this never spins.
async fn next_version(cluster: &Cluster, pod: &Pod) -> Result<Option<Pod>> {
    let (ns, name) = names(pod);
    let rv = pod.metadata.resource_version.clone().unwrap_or_default();
    let opened = Instant::now();
    let field = format!("metadata.name={name}");
    if let Ok(stream) = cluster.watch_pods(Some(ns), None, Some(&field), &rv).await {
        let mut stream = std::pin::pin!(stream);
        while let Some(event) = stream.next().await {
            match event {
                Ok(WatchEvent::Added(p) | WatchEvent::Modified(p)) => return Ok(Some(p)),
                Ok(WatchEvent::Deleted(_)) => return Ok(None),
                Ok(WatchEvent::Bookmark(_)) => {}
                Ok(WatchEvent::Error(_)) | Err(_) => break,
            }
        }
    }
    let waited = opened.elapsed();
    if waited < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_secs(1) - waited).await;
    }
    cluster.find_pod(ns, name).await
}

/// `logs -f`: each container in turn — its log so far when it has ended, followed while it
/// runs — moving on as the pod progresses, until init is complete (with `apps`, until the app
/// containers' logs end), the pod ends, or it is deleted.
pub(crate) async fn follow(
    cluster: &Cluster,
    mut pod: Pod,
    only: Option<&str>,
    apps: bool,
    opts: &LogOptions,
    now: Timestamp,
    show: &mut Show<'_>,
) -> Result<Tally> {
    let mut tally = Tally::default();
    // Runs (container, start) whose header was shown, and those followed to their end.
    let mut shown: BTreeSet<(String, Option<Timestamp>)> = BTreeSet::new();
    let mut followed = shown.clone();
    let mut position = 0;
    loop {
        let all = container_logs::containers(&pod, now, false, apps);
        let order: Vec<&ContainerLog> = all
            .iter()
            .filter(|c| only.is_none_or(|n| n == c.name))
            .collect();
        let Some(c) = order.get(position).copied() else {
            return Ok(tally);
        };
        let key = (c.name.clone(), c.run);
        let together = c.app && only.is_none() && order.len() - position > 1;
        if together {
            // The app containers run side by side: follow them together, once all have started.
            if order[position..]
                .iter()
                .all(|c| c.progress != Progress::NotStarted)
            {
                let rest: Vec<ContainerLog> =
                    order[position..].iter().map(|c| (*c).clone()).collect();
                follow_together(cluster, &pod, &rest, opts, show, &mut tally).await?;
                return Ok(tally);
            }
        } else if c.progress == Progress::Running && !c.sidecar && !followed.contains(&key) {
            if shown.insert(key.clone()) {
                show(Shown::Header(c)).map_err(Error::Output)?;
            }
            count(
                &mut tally,
                follow_one(cluster, &pod, c, None, opts, show).await?,
            );
            followed.insert(key);
            // The stream ended: the container exited. Read where the pod is now.
            let (ns, name) = names(&pod);
            match cluster.find_pod(ns, name).await? {
                Some(p) => pod = p,
                None => return deleted(show, tally),
            }
            continue;
        } else if c.progress != Progress::NotStarted {
            if c.run.is_some() && shown.insert(key) {
                show(Shown::Header(c)).map_err(Error::Output)?;
                count(&mut tally, read_now(cluster, &pod, c, opts, show).await?);
            }
            let moving_on = match c.progress {
                Progress::Ended { ok } => ok || c.app,
                Progress::Running => c.sidecar,
                _ => false,
            };
            if moving_on {
                position += 1;
                continue;
            }
        }
        if let Some(why) = container_logs::pod_finished(&pod) {
            show(Shown::Note(format!("stopped following: {why}"))).map_err(Error::Output)?;
            return Ok(tally);
        }
        match next_version(cluster, &pod).await? {
            Some(p) => pod = p,
            None => return deleted(show, tally),
        }
    }
}

fn deleted(show: &mut Show<'_>, tally: Tally) -> Result<Tally> {
    show(Shown::Note("stopped following: the pod was deleted".into())).map_err(Error::Output)?;
    Ok(tally)
}

fn count(tally: &mut Tally, ok: bool) {
    if ok {
        tally.read += 1;
    } else {
        tally.failed += 1;
    }
}

/// Several app containers at once, each line prefixed with its container's name, until every
/// stream has ended.
async fn follow_together(
    cluster: &Cluster,
    pod: &Pod,
    containers: &[ContainerLog],
    opts: &LogOptions,
    show: &mut Show<'_>,
    tally: &mut Tally,
) -> Result<()> {
    let (ns, name) = names(pod);
    let params = LogParams {
        follow: true,
        timestamps: opts.timestamps,
        tail_lines: opts.tail,
        since_seconds: opts.since_seconds,
        ..Default::default()
    };
    let mut streams = Vec::new();
    for c in containers {
        show(Shown::Header(c)).map_err(Error::Output)?;
        match open(cluster, ns, name, &c.name, &params).await {
            Ok(lines) => {
                tally.read += 1;
                let label = c.name.clone();
                streams.push(
                    futures::stream::unfold(lines, |mut l| async move {
                        let next = l.next().await.transpose()?;
                        Some((next, l))
                    })
                    .map(move |line| (label.clone(), line))
                    .boxed(),
                );
            }
            Err(e) => {
                tally.failed += 1;
                show(Shown::NoLog(&unreadable(&e))).map_err(Error::Output)?;
            }
        }
    }
    let mut merged = futures::stream::select_all(streams);
    while let Some((label, line)) = merged.next().await {
        let (label, line): (String, io::Result<String>) = (label, line);
        match line {
            Ok(line) => show(Shown::Line(Some(&label), &line)).map_err(Error::Output)?,
            Err(e) => {
                show(Shown::Note(format!("the log of {label} broke off: {e}")))
                    .map_err(Error::Output)?;
            }
        }
    }
    Ok(())
}
