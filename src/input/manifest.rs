//! Offline input (`-f FILE`, `-` for stdin): YAML or JSON holding one object, a multi-document
//! stream, or a `kind: List` as `kubectl get … -o yaml|json` prints it. Every object keeps where
//! it came from, so a malformed one is reported as file:line:column.
//!
//! JSON is streamed in two passes ([`json_stream`]): a dump is never held whole, and its Pods
//! are typed once, as they are used. YAML is read whole (the engine reads from a text), its Pods
//! kept as compact JSON without their managedFields.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::json_pieces;
use crate::input::json_split::Split;
use crate::input::json_stream::{self, PodsError, Shape};
use crate::input::newest::Newest;
use crate::input::pod_json::{self, PodView};
use crate::input::row_pod::RowPod;
use crate::input::yaml::{self, Document, Located, Object};

/// The most bytes one input (one `-f` file, or stdin) may hold: reading stops there, so even
/// an endless input (`-f /dev/zero`) ends in one line. [`MAX_INPUT_BYTES_ENV`] changes it.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// The environment variable that sets the byte limit of each input (a number of bytes).
pub const MAX_INPUT_BYTES_ENV: &str = "KUBECTL_INITCTL_MAX_INPUT_BYTES";

/// Where an object came from: its document, and its index in a List.
#[derive(Debug, Clone, Copy)]
struct Origin {
    document: usize,
    item: Option<usize>,
}

/// One input while it is read; its text is dropped once its objects are.
struct SourceFile {
    name: String,
    text: String,
    json: bool,
}

/// All objects read from the -f inputs, in file order: Pods checked (each with a name), every
/// other object raw. Pods are handed over one at a time as they are used
/// ([`Inventory::for_each_pod`]): read again from a JSON file, or from the compact JSON kept of
/// a YAML input. Only `check` keeps the raw Pods too ([`Inventory::load_raw`]).
pub struct Inventory {
    inputs: Vec<PodInput>,
    /// The Pods of the YAML input being read, until it is done.
    pods: Vec<Box<str>>,
    raw_pods: Vec<Value>,
    objects: Vec<Value>,
    newest: Newest,
}

/// Where the Pods of one input are read from.
enum PodInput {
    /// A JSON input, read again: the places of its Pods as the first pass found them.
    Json {
        name: String,
        text: JsonText,
        shapes: Vec<Shape>,
    },
    /// A YAML input's Pods, as compact JSON.
    Held(Vec<Box<str>>),
}

enum JsonText {
    /// A regular file, read twice and never held, the second time at the places of its Pods
    /// (the first pass went the fast way, `json_pieces`). Where rows are asked for first, that
    /// pass kept the first Pods' rows: the first asking takes them and reads only the Pods
    /// after them; any later one reads every Pod.
    Cut(
        PathBuf,
        json_pieces::Places,
        Mutex<Option<json_pieces::Rows>>,
    ),
    /// A regular file the first pass read the slow way, read again that way.
    File(PathBuf),
    /// What could be read only once (stdin, a pipe), held.
    Bytes(Vec<u8>),
}

/// The bytes a read of a JSON file asks for at a time.
const READ_BUFFER: usize = 256 * 1024;

impl Inventory {
    /// The inputs, for a command that lists its pods in the `listing` view first.
    pub fn load(
        paths: &[impl AsRef<Path>],
        stdin: &mut dyn Read,
        listing: PodView,
    ) -> Result<Inventory> {
        Self::load_as::<true>(paths, stdin, matches!(listing, PodView::Rows))
    }

    /// As `load`, keeping every Pod as raw JSON as well (unknown fields included).
    pub fn load_raw(paths: &[impl AsRef<Path>], stdin: &mut dyn Read) -> Result<Inventory> {
        Self::load_as::<false>(paths, stdin, false)
    }

    fn load_as<const TYPED: bool>(
        paths: &[impl AsRef<Path>],
        stdin: &mut dyn Read,
        keep_rows: bool,
    ) -> Result<Inventory> {
        let limit = max_input_bytes()?;
        let mut inventory = Inventory::empty();
        for path in paths {
            let path = path.as_ref();
            let (name, bytes) = if path == Path::new("-") {
                (
                    "<stdin>".to_string(),
                    read_bounded(stdin, "<stdin>", limit)?,
                )
            } else {
                let name = path.display().to_string();
                let file = open(path, &name)?;
                let size = file
                    .metadata()
                    .ok()
                    .filter(|m| m.is_file())
                    .map(|m| m.len());
                let mut reader = BufReader::with_capacity(READ_BUFFER, file);
                if let Some(size) = size
                    && TYPED
                    && starts_as_json(&mut reader, &name)?
                {
                    // The size is known: over the limit is refused before anything is read.
                    if size > limit {
                        return Err(too_large(&name, limit));
                    }
                    let rows_budget = json_pieces::rows_budget(size, keep_rows);
                    inventory.add_json_file(name, path, reader, rows_budget)?;
                    continue;
                }
                let bytes = read_bounded(&mut reader, &name, limit)?;
                (name, bytes)
            };
            let text = utf8(&name, bytes)?;
            if TYPED && text.trim_start().starts_with('{') {
                inventory.add_json_bytes(name, text.into_bytes())?;
            } else {
                inventory.add::<TYPED>(name, text)?;
            }
        }
        Ok(inventory)
    }

    pub(crate) fn empty() -> Inventory {
        Inventory {
            inputs: Vec::new(),
            pods: Vec::new(),
            raw_pods: Vec::new(),
            objects: Vec::new(),
            newest: Newest::default(),
        }
    }

    /// A JSON file, streamed: its first pass now (keeping rows within `rows_budget` bytes),
    /// its Pods when they are used.
    fn add_json_file(
        &mut self,
        name: String,
        path: &Path,
        reader: impl Read,
        rows_budget: usize,
    ) -> Result<()> {
        match json_pieces::first_pass(reader, rows_budget) {
            Ok((pass, places, rows)) => {
                let text = JsonText::Cut(path.to_path_buf(), places, Mutex::new(Some(rows)));
                self.add_first_pass(name, text, pass);
                return Ok(());
            }
            Err(Split::Io(source)) => return Err(Error::ReadFile { path: name, source }),
            // Read again the slow way, which says what is wrong and where.
            Err(Split::Unsupported | Split::Stopped(())) => {}
        }
        let pass = match json_stream::first_pass(&mut read_slowly(path, &name)?) {
            Ok(pass) => pass,
            Err(located) => {
                let whole = whole_text(&name, path)?;
                let again =
                    json_stream::first_pass(&mut serde_json::Deserializer::from_slice(&whole));
                return Err(parse(&name, again.err().unwrap_or(located)));
            }
        };
        self.add_first_pass(name, JsonText::File(path.to_path_buf()), pass);
        Ok(())
    }

    /// JSON that could be read only once (stdin, a pipe), held as bytes.
    fn add_json_bytes(&mut self, name: String, bytes: Vec<u8>) -> Result<()> {
        let pass = json_stream::first_pass(&mut serde_json::Deserializer::from_slice(&bytes))
            .map_err(|located| parse(&name, located))?;
        self.add_first_pass(name, JsonText::Bytes(bytes), pass);
        Ok(())
    }

    fn add_first_pass(&mut self, name: String, text: JsonText, pass: json_stream::FirstPass) {
        self.objects.extend(pass.objects);
        self.newest.merge_all(pass.newest);
        self.inputs.push(PodInput::Json {
            name,
            text,
            shapes: pass.shapes,
        });
    }

    /// The newest time the inputs record (see `input::newest`), if any.
    pub fn newest(&self) -> Option<Timestamp> {
        self.newest.get()
    }

    /// Parses one input text; `name` is what errors call it.
    fn add<const TYPED: bool>(&mut self, name: String, text: String) -> Result<()> {
        self.add_documents::<TYPED>(name, text)?;
        let held = std::mem::take(&mut self.pods);
        self.inputs.push(PodInput::Held(held));
        Ok(())
    }

    fn add_documents<const TYPED: bool>(&mut self, name: String, text: String) -> Result<()> {
        let json = text.trim_start().starts_with('{');
        let parsed = if json {
            yaml::json_objects::<TYPED>(&text)
        } else {
            yaml::objects::<TYPED>(&text)
        };
        let documents = parsed.map_err(|l| Error::Parse {
            path: name.clone(),
            line: l.line,
            column: l.column,
            message: l.message,
        })?;
        let file = SourceFile { name, text, json };
        for (document, doc) in documents.into_iter().enumerate() {
            let at = |item| Origin { document, item };
            let Document::Object { mut fields, items } = doc else {
                return Err(file.located(at(None), "document is not an object".into()));
            };
            let kind = fields
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if kind.is_empty() {
                return Err(file.located(at(None), "object has no \"kind\"".into()));
            }
            let items = match items {
                Some(items) if kind.ends_with("List") => items,
                Some(items) => {
                    // Not a list: the object keeps its items as they were.
                    let items = items.into_iter().map(Object::into_value).collect();
                    fields.insert("items".into(), Value::Array(items));
                    self.push(Value::Object(fields), &file, at(None))?;
                    continue;
                }
                None => {
                    self.push(Value::Object(fields), &file, at(None))?;
                    continue;
                }
            };
            // A typed list (PodList from the raw API) leaves kind/apiVersion off its items.
            let item_kind = kind.trim_end_matches("List").to_string();
            let list_version = fields.get("apiVersion").cloned();
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    Object::Pod {
                        json,
                        named,
                        newest,
                    } => {
                        if !named {
                            return Err(file.nameless(at(Some(i))));
                        }
                        self.newest.merge_all(newest);
                        self.pods.push(json);
                    }
                    Object::Unreadable => {
                        // Read from its own text: located error, or YAML read as YAML.
                        let pod = file.reparse::<Pod>(at(Some(i)), None)?;
                        if let Ok(value) = serde_json::to_value(&pod) {
                            self.newest.observe_value(&value);
                        }
                        self.push_pod(pod, &file, at(Some(i)))?;
                    }
                    Object::Raw(Value::Object(mut map)) => {
                        if kind != "List" {
                            map.entry("kind")
                                .or_insert(Value::String(item_kind.clone()));
                            if let Some(v) = &list_version {
                                map.entry("apiVersion").or_insert(v.clone());
                            }
                        }
                        self.push(Value::Object(map), &file, at(Some(i)))?;
                    }
                    Object::Raw(_) => {
                        return Err(file.located(at(Some(i)), "list item is not an object".into()));
                    }
                }
            }
        }
        Ok(())
    }

    /// One raw object: a Pod is typed (a malformed one is an error that points into its file).
    fn push(&mut self, value: Value, file: &SourceFile, origin: Origin) -> Result<()> {
        self.newest.observe_value(&value);
        if value.get("kind").and_then(Value::as_str) != Some("Pod") {
            self.objects.push(value);
            return Ok(());
        }
        let pod = Pod::deserialize(&value).or_else(|e| file.reparse::<Pod>(origin, e))?;
        self.push_pod(pod, file, origin)?;
        self.raw_pods.push(value);
        Ok(())
    }

    /// A Pod without a name would print as a blank row and could not be found or changed.
    fn push_pod(&mut self, pod: Pod, file: &SourceFile, origin: Origin) -> Result<()> {
        if pod.metadata.name.as_deref().is_none_or(str::is_empty) {
            return Err(file.nameless(origin));
        }
        let compact = serde_json::to_string(&without_managed_fields(pod))
            .map_err(|e| file.located(origin, format!("cannot keep the Pod: {e}")))?;
        self.pods.push(compact.into_boxed_str());
        Ok(())
    }

    /// The objects of one kind (e.g. "Pod", "Event", "Service"), as raw JSON. Pods are there
    /// only when loaded with [`Inventory::load_raw`].
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        let objects = if kind == "Pod" {
            &self.raw_pods
        } else {
            &self.objects
        };
        objects
            .iter()
            .filter(move |v| v.get("kind").and_then(Value::as_str) == Some(kind))
    }

    /// Every Pod, typed one at a time (without its managedFields), in file order, handed to
    /// `on_pod`; an error it returns stops the reading and is returned.
    pub fn for_each_pod(
        &self,
        view: PodView,
        on_pod: &mut dyn FnMut(Pod) -> Result<()>,
    ) -> Result<()> {
        for input in &self.inputs {
            match input {
                PodInput::Held(pods) => {
                    for text in pods {
                        let pod =
                            pod_json::pod_from_slice_as(view, text.as_bytes()).map_err(|e| {
                                Error::Input(format!(
                                    "a Pod read from the files cannot be read back: {e}"
                                ))
                            })?;
                        on_pod(pod)?;
                    }
                }
                PodInput::Json { name, text, shapes } => {
                    let read = match text {
                        JsonText::Bytes(bytes) => json_stream::pods(
                            &mut serde_json::Deserializer::from_slice(bytes),
                            shapes,
                            view,
                            on_pod,
                        ),
                        JsonText::File(path) => {
                            json_stream::pods(&mut read_slowly(path, name)?, shapes, view, on_pod)
                        }
                        JsonText::Cut(path, places, kept) => {
                            cut_pods(name, path, places, kept, view, on_pod)
                        }
                    };
                    match read {
                        Ok(()) => {}
                        Err(PodsError::Stopped(e)) => return Err(e),
                        Err(PodsError::Input(located)) => {
                            let located = match text {
                                JsonText::File(path) | JsonText::Cut(path, _, _) => {
                                    located_again(name, path, shapes, view)?.unwrap_or(located)
                                }
                                JsonText::Bytes(_) => located,
                            };
                            return Err(parse(name, located));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The Pods of a file the first pass read the fast way: the rows it kept, if `view` is theirs
/// and they were not taken before, then the second pass at the places after them.
fn cut_pods(
    name: &str,
    path: &Path,
    places: &[std::ops::Range<usize>],
    kept: &Mutex<Option<json_pieces::Rows>>,
    view: PodView,
    on_pod: &mut dyn FnMut(Pod) -> Result<()>,
) -> std::result::Result<(), PodsError> {
    let rows = take_rows(kept, view);
    let after = &places[rows.len()..];
    let mut kept = rows.into_iter().map(RowPod::into_pod);
    kept.try_for_each(&mut *on_pod)
        .map_err(PodsError::Stopped)?;
    if after.is_empty() {
        return Ok(());
    }
    let file = open(path, name).map_err(PodsError::Stopped)?;
    json_pieces::pods(file, after, view, on_pod)
}

/// The rows a first pass kept, if `view` is theirs and they were not taken before.
fn take_rows(kept: &Mutex<Option<json_pieces::Rows>>, view: PodView) -> json_pieces::Rows {
    let take = || kept.lock().ok()?.take();
    match view {
        PodView::Rows => take().unwrap_or_default(),
        PodView::Whole | PodView::WholeIf(_) => Vec::new(),
    }
}

/// A Pod as it is kept: managedFields, which nothing reads, left out.
fn without_managed_fields(mut pod: Pod) -> Pod {
    pod.metadata.managed_fields = None;
    pod
}

/// A JSON file read the slow way (`json_stream`, byte by byte from a buffered reader): both of
/// its passes read it so.
fn read_slowly(
    path: &Path,
    name: &str,
) -> Result<serde_json::Deserializer<serde_json::de::IoRead<BufReader<std::fs::File>>>> {
    let reader = BufReader::with_capacity(READ_BUFFER, open(path, name)?);
    Ok(serde_json::Deserializer::from_reader(reader))
}

fn open(path: &Path, name: &str) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| Error::ReadFile {
        path: name.to_string(),
        source,
    })
}

fn parse(name: &str, located: Located) -> Error {
    Error::Parse {
        path: name.to_string(),
        line: located.line,
        column: located.column,
        message: located.message,
    }
}

/// Whether the input's first non-blank byte opens a JSON object (peeked, not consumed; an
/// input that starts with a whole buffer of blanks is left to the YAML reader).
fn starts_as_json(reader: &mut impl BufRead, name: &str) -> Result<bool> {
    let buffer = reader.fill_buf().map_err(|source| Error::ReadFile {
        path: name.to_string(),
        source,
    })?;
    Ok(buffer
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{'))
}

/// A JSON file that failed to read, read whole: reading from a buffer counts the byte that ends
/// a number into the position, reading from a text does not, and a text that is not UTF-8 is
/// named at its first bad byte. So the error is the one the whole text gives, and `check`
/// (which reads the whole text) says the same. Only ever on the way to an error.
fn whole_text(name: &str, path: &Path) -> Result<Vec<u8>> {
    let bytes = read_bounded(&mut open(path, name)?, name, max_input_bytes()?)?;
    Ok(utf8(name, bytes)?.into_bytes())
}

/// Where the second pass over a file failed, as the whole text locates it (see [`whole_text`]).
fn located_again(
    name: &str,
    path: &Path,
    shapes: &[Shape],
    view: PodView,
) -> Result<Option<Located>> {
    let whole = whole_text(name, path)?;
    let mut de = serde_json::Deserializer::from_slice(&whole);
    Ok(
        match json_stream::pods(&mut de, shapes, view, &mut |_| Ok(())) {
            Err(PodsError::Input(located)) => Some(located),
            _ => None,
        },
    )
}

fn too_large(name: &str, limit: u64) -> Error {
    Error::InputTooLarge {
        path: name.to_string(),
        limit,
        env: MAX_INPUT_BYTES_ENV,
    }
}

impl SourceFile {
    /// Reads a failing object again from its own text: a real type error gets its
    /// file:line:column, with the engine's own position.
    fn reparse<T: serde::de::DeserializeOwned>(
        &self,
        origin: Origin,
        err: impl Into<Option<serde_json::Error>>,
    ) -> Result<T> {
        let docs = if self.json {
            vec![(0, self.text.as_str())]
        } else {
            split_documents(&self.text)
        };
        let fallback = |err: Option<serde_json::Error>| {
            let message = err.map_or_else(|| "cannot be read".to_string(), |e| e.to_string());
            self.located(origin, message)
        };
        let Some((first_line, text)) = docs.get(origin.document) else {
            return Err(fallback(err.into()));
        };
        yaml::reparse::<T>(text, origin.item).map_err(|l| Error::Parse {
            path: self.name.clone(),
            line: l.line + *first_line as u64,
            column: l.column,
            message: l.message,
        })
    }

    /// A Pod without a name, located where reading it as something named fails.
    fn nameless(&self, origin: Origin) -> Error {
        let message = "Pod has no metadata.name".to_string();
        match self.reparse::<Named>(origin, None) {
            Err(Error::Parse {
                path, line, column, ..
            }) => Error::Parse {
                path,
                line,
                column,
                message,
            },
            _ => self.located(origin, message),
        }
    }

    /// An error for an object whose exact position is unknown: the start of its document.
    fn located(&self, origin: Origin, message: String) -> Error {
        let line = if self.json {
            1
        } else {
            split_documents(&self.text)
                .get(origin.document)
                .map_or(1, |(l, _)| *l as u64 + 1)
        };
        let message = match origin.item {
            Some(i) => format!("items[{i}]: {message}"),
            None => message,
        };
        Error::Parse {
            path: self.name.clone(),
            line,
            column: 1,
            message,
        }
    }
}

/// What a Pod must have to be shown: a non-empty name (read only to locate its absence).
#[derive(Deserialize)]
struct Named {
    #[allow(dead_code)]
    metadata: NamedMeta,
}

#[derive(Deserialize)]
struct NamedMeta {
    #[allow(dead_code)]
    #[serde(deserialize_with = "non_empty")]
    name: String,
}

fn non_empty<'de, D: serde::Deserializer<'de>>(de: D) -> std::result::Result<String, D::Error> {
    let name = String::deserialize(de)?;
    if name.is_empty() {
        return Err(serde::de::Error::custom("empty name"));
    }
    Ok(name)
}

/// The byte limit of each input: [`MAX_INPUT_BYTES_ENV`], else [`DEFAULT_MAX_INPUT_BYTES`].
fn max_input_bytes() -> Result<u64> {
    match std::env::var(MAX_INPUT_BYTES_ENV) {
        Err(_) => Ok(DEFAULT_MAX_INPUT_BYTES),
        Ok(text) => text.trim().parse::<u64>().map_err(|_| {
            Error::Input(format!(
                "{MAX_INPUT_BYTES_ENV}={text:?} is not a number of bytes (for example 2147483648)"
            ))
        }),
    }
}

/// Reads at most `limit` bytes; one more is an error, so an endless input stops there.
fn read_bounded(input: &mut dyn Read, name: &str, limit: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| Error::ReadFile {
            path: name.to_string(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(name, limit));
    }
    Ok(bytes)
}

/// The input as text; the first byte that is not UTF-8 is located (line, and column in
/// characters, as editors count them).
fn utf8(name: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = &bytes[..e.utf8_error().valid_up_to()];
        let before = std::str::from_utf8(valid).unwrap_or_default();
        let line = before.matches('\n').count() as u64 + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count() as u64
            + 1;
        Error::Parse {
            path: name.to_string(),
            line,
            column,
            message: if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
                "invalid UTF-8: the input is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8".to_string()
            } else {
                format!(
                    "invalid UTF-8 (byte 0x{:02x}): the input must be UTF-8 text",
                    bytes[valid.len()]
                )
            },
        }
    })
}

/// Splits a YAML stream at `---` document markers; each part with the 0-based line it starts on.
/// Only used to locate errors, after the whole stream has parsed.
fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut start_line = 0;
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if line.starts_with("---") && line[3..].trim().is_empty() || line.starts_with("--- ") {
            if !text[start..offset].trim().is_empty() {
                docs.push((start_line, &text[start..offset]));
            }
            start = offset + line.len();
            start_line = n + 1;
        }
        offset += line.len();
    }
    if !text[start..].trim().is_empty() {
        docs.push((start_line, &text[start..]));
    }
    docs
}

/// The one Pod a file (or `-`, stdin) holds, raw (unknown fields kept), for `check` and
/// `restart --from`.
pub(crate) fn one_pod(path: &Path, stdin: &mut dyn Read) -> Result<Value> {
    let inventory = Inventory::load_raw(&[path], stdin)?;
    let pods: Vec<&Value> = inventory.of_kind("Pod").collect();
    match pods.as_slice() {
        [pod] => Ok((*pod).clone()),
        _ => Err(Error::Input(format!(
            "{}: expected exactly one Pod, found {}",
            path.display(),
            pods.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Inventory> {
        let mut inv = Inventory::empty();
        inv.add::<true>("pods.yaml".into(), text.into())?;
        Ok(inv)
    }

    fn all_pods(inv: &Inventory) -> Vec<Pod> {
        let mut pods = Vec::new();
        inv.for_each_pod(PodView::Whole, &mut |pod| {
            pods.push(pod);
            Ok(())
        })
        .unwrap();
        pods
    }

    fn names(inv: &Inventory, view: PodView) -> Vec<String> {
        let mut names = Vec::new();
        inv.for_each_pod(view, &mut |pod| {
            names.push(pod.metadata.name.unwrap_or_default());
            Ok(())
        })
        .unwrap();
        names
    }

    /// Loaded for a rows listing, a JSON file's first Pods come from the rows its first pass
    /// kept (up to pod 350, which the hand readers decline: metadata before kind), the rest
    /// from its second; anything asked after reads it again: the same Pods each time.
    #[test]
    fn a_json_file_read_for_rows_gives_the_same_pods_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pods.json");
        let items: Vec<String> = (0..700)
            .map(|i| match i {
                350 => format!(r#"{{"metadata": {{"name": "p{i}"}}, "kind": "Pod"}}"#),
                // Text enough for the rows to fit the budget (a third of the file).
                _ => format!(
                    r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "p{i}"}}, "data": "{}"}}"#,
                    "x".repeat(4000)
                ),
            })
            .collect();
        let list = format!(r#"{{"kind": "List", "items": [{}]}}"#, items.join(",\n"));
        std::fs::write(&path, list).unwrap();
        let load = |view| Inventory::load(&[&path], &mut std::io::empty(), view).unwrap();
        let kept_rows = |inv: &Inventory| match &inv.inputs[..] {
            [
                PodInput::Json {
                    text: JsonText::Cut(_, _, kept),
                    ..
                },
            ] => kept.lock().unwrap().as_ref().map(Vec::len),
            _ => panic!("not read the fast way"),
        };
        let kept = load(PodView::Rows);
        assert_eq!(kept_rows(&kept), Some(350));
        let first = names(&kept, PodView::Rows);
        assert_eq!(kept_rows(&kept), None);
        assert_eq!(first.len(), 700);
        let some = (&*first[349], &*first[350], &*first[699]);
        assert_eq!(some, ("p349", "p350", "p699"));
        assert_eq!(names(&kept, PodView::Rows), first);
        assert_eq!(names(&kept, PodView::Whole), first);
        let whole = load(PodView::Whole);
        assert_eq!(kept_rows(&whole), Some(0));
        assert_eq!(names(&whole, PodView::Rows), first);
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: busybox\n";

    #[test]
    fn reads_streams_and_lists() {
        let stream = format!("{POD}---\n{POD}");
        assert_eq!(all_pods(&load(&stream).unwrap()).len(), 2);
        let list = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}",
            POD.lines().collect::<Vec<_>>().join("\n  ")
        );
        assert_eq!(all_pods(&load(&list).unwrap()).len(), 1);
        let raw = r#"{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]}"#;
        assert_eq!(
            all_pods(&load(raw).unwrap())[0].metadata.name.as_deref(),
            Some("a")
        );
    }

    #[test]
    fn invalid_utf8_is_located_in_characters() {
        let err = utf8("p.yaml", b"a: 1\nb: \xc3\xa9\xff\n".to_vec())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "p.yaml:2:5: invalid UTF-8 (byte 0xff): the input must be UTF-8 text"
        );
        let utf16 = utf8("p.yaml", vec![0xff, 0xfe, b'a', 0])
            .unwrap_err()
            .to_string();
        assert!(
            utf16.starts_with("p.yaml:1:1: invalid UTF-8: the input is UTF-16"),
            "{utf16}"
        );
        // A sequence cut at the end of the input is named too.
        let cut = utf8("p.yaml", b"a: \xc3".to_vec()).unwrap_err().to_string();
        assert_eq!(
            cut,
            "p.yaml:1:4: invalid UTF-8 (byte 0xc3): the input must be UTF-8 text"
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = load("kind: Pod\nmetadata:\n  name: [a\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("pods.yaml:"), "{err}");
        let err = load("{\"kind\": \"Pod\",\n \"metadata\": }")
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("pods.yaml:2:"), "{err}");
    }

    #[test]
    fn type_errors_point_at_the_field() {
        let bad = format!(
            "{POD}---\n{}",
            POD.replace("  name: a\n", "  name: a\n  labels: [1]\n")
        );
        let err = load(&bad).err().unwrap().to_string();
        assert!(err.starts_with("pods.yaml:14:"), "{err}");
        let list = "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: Pod\n  spec:\n    containers: 7\n";
        let err = load(list).err().unwrap().to_string();
        assert!(err.starts_with("pods.yaml:8:"), "{err}");
    }
}
