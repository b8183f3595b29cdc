//! Bytes from the cluster never drive the terminal. Pods, events, logs and the server's own error
//! text carry an OSC 52 clipboard write, a screen clear, BEL, CR, NUL, a C1 CSI and bidi
//! overrides/isolates in every string field; whatever the command, stdout and stderr come out
//! with none of them (only `\n` and `\t`), and `-o json` stays valid with the raw values.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault};
use crate::harness::{self, Run, initctl};

/// Everything a terminal must not be handed raw.
pub(crate) const EVIL: &str = "\u{1b}]52;c;aGFja2Vk\u{7}\u{1b}[2J\r\0\u{9b}31m\u{202e}\u{2066}x";

/// Keys whose string values are poisoned; the rest (kinds, namespaces, timestamps, phases,
/// condition types) stay as they are so that the objects still mean something.
const POISONED: &[&str] = &[
    "name",
    "generateName",
    "image",
    "imageID",
    "containerID",
    "reason",
    "message",
    "nodeName",
    "command",
    "args",
    "hostname",
];

/// The first character a terminal must not be handed: C0 other than `\n`/`\t`, DEL, C1, bidi
/// embeddings/overrides/isolates/marks, and U+FFFD (a raw invalid byte, as read back).
fn forbidden(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        let u = c as u32;
        (u < 0x20 && c != '\n' && c != '\t')
            || (0x7f..=0x9f).contains(&u)
            || (0x202a..=0x202e).contains(&u)
            || (0x2066..=0x2069).contains(&u)
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{61c}' | '\u{fffd}')
    })
}

/// The text without the colour sequences (SGR: `ESC [` digits and `;`, then `m`) that
/// `--color always` asks for.
fn without_colour(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\u{1b}[") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let end = tail.find(|c: char| !c.is_ascii_digit() && c != ';');
        match end {
            Some(e) if tail[e..].starts_with('m') => rest = &tail[e + 1..],
            _ => {
                out.push_str(&rest[at..at + 2]);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

#[track_caller]
pub(crate) fn assert_terminal_safe(run: &Run, what: &str) {
    let colour = what.contains("--color always");
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let text = &if colour {
            without_colour(text)
        } else {
            text.clone()
        };
        if let Some((at, c)) = forbidden(text) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(60)
                .map_or(0, |(i, _)| i);
            panic!(
                "{what}: {stream} carries {c:?} at byte {at}: …{:?}",
                &text[from..(at + 40).min(text.len())]
            );
        }
    }
}

/// Keys poisoned in the crash-looping pod: its names and reasons stay clean, so that its logs
/// are read (and quoted) like any other's.
const POISONED_TEXT: &[&str] = &["message", "image", "imageID", "command", "args"];

fn poison(v: &mut Value, key: Option<&str>, keys: &[&str]) {
    match v {
        Value::String(s) if key.is_some_and(|k| keys.contains(&k)) => {
            // Keeps the scheduler's message parseable, with a taint key to quote.
            *s = format!("{}{EVIL}", s.replace("taint {", &format!("taint {{{EVIL}")));
        }
        Value::Array(items) => items.iter_mut().for_each(|i| poison(i, key, keys)),
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| {
            // Labels and selectors stay clean: the stand-in selects with them.
            if !matches!(k.as_str(), "labels" | "selector" | "matchLabels") {
                poison(v, Some(k), keys);
            }
        }),
        _ => {}
    }
}

/// The explain scenarios' objects with every name, image, reason and message poisoned.
fn hostile_objects() -> Vec<Value> {
    let mut objects = Vec::new();
    for scenario in ["init-crashloop", "untolerated-taint", "evicted"] {
        let path = harness::fixtures().join(format!("explain/{scenario}.yaml"));
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for mut item in doc["items"].as_array().unwrap().clone() {
            let keys = if scenario == "init-crashloop" {
                POISONED_TEXT
            } else {
                POISONED
            };
            poison(&mut item, None, keys);
            objects.push(item);
        }
    }
    objects
}

fn hostile_server(objects: &[Value]) -> ApiServer {
    let server = ApiServer::start();
    server.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "seed"}}));
    for o in objects {
        server.insert(o.clone());
    }
    for pod in objects.iter().filter(|o| o["kind"] == "Pod") {
        let name = pod["metadata"]["name"].as_str().unwrap();
        let long = "y".repeat(10_000);
        let log = format!("waiting{EVIL}\nwaiting{EVIL}\n{long}\nlast{EVIL}\n");
        for c in pod["spec"]["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let container = c["name"].as_str().unwrap();
            server.set_log("seed", name, container, false, &log);
            server.set_log("seed", name, container, true, &log);
        }
    }
    server
}

#[test]
fn hostile_objects_never_reach_the_terminal_raw() {
    let objects = hostile_objects();
    let server = hostile_server(&objects);
    let kubeconfig = server.kubeconfig(Some("seed"));
    let k = Some(kubeconfig.as_path());
    for args in [
        &["status"][..],
        &["status", "-o", "wide"],
        &["status", "-o", "wide", "-A"],
        &["status", "-o", "yaml"],
        &["explain"],
        &["explain", "--color", "always"],
        &["explain", "-o", "yaml"],
    ] {
        let run = initctl(args, k);
        assert_terminal_safe(&run, &args.join(" "));
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    // The text is still there, escaped where the reader can see it.
    let wide = initctl(&["status", "-o", "wide"], k);
    assert!(
        wide.stdout
            .contains("\\u{1b}]52;c;aGFja2Vk\\u{7}\\u{1b}[2J\\r\\u{0}\\u{9b}31m\\u{202e}"),
        "{}",
        wide.stdout
    );
    let text = initctl(&["explain"], k);
    assert!(
        text.stdout.contains("… [cut: 5904 more characters]"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("\\u{202e}\\u{2066}x"),
        "{}",
        text.stdout
    );

    // -o json: valid, the raw values kept (escaped by JSON only), and still nothing raw on screen.
    let json = initctl(&["explain", "-o", "json"], k);
    assert_terminal_safe(&json, "explain -o json");
    let doc: Value =
        serde_json::from_str(json.ok()).unwrap_or_else(|e| panic!("{e}: {}", json.stdout));
    let items = doc["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let evicted = items
        .iter()
        .find(|i| i["name"].as_str().unwrap().starts_with("ledger-worker"))
        .unwrap();
    assert!(evicted["name"].as_str().unwrap().ends_with(EVIL), "{doc:#}");
    assert!(
        evicted["summary"].as_str().unwrap().ends_with(EVIL),
        "{doc:#}"
    );
    let status = initctl(&["status", "-o", "json"], k);
    assert_terminal_safe(&status, "status -o json");
    let doc: Value = serde_json::from_str(status.ok()).unwrap();
    assert!(doc["items"][0]["name"].as_str().unwrap().ends_with(EVIL));

    // -o yaml too: valid, raw values kept (bidi characters as YAML escapes).
    let yaml = initctl(&["status", "-o", "yaml"], k);
    let doc: Value =
        serde_saphyr::from_str(yaml.ok()).unwrap_or_else(|e| panic!("{e}: {}", yaml.stdout));
    assert!(
        doc["items"][0]["name"].as_str().unwrap().ends_with(EVIL),
        "{}",
        yaml.stdout
    );

    // The same objects offline, from a file: names read with -f are escaped too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.json");
    std::fs::write(
        &file,
        json!({"apiVersion": "v1", "kind": "List", "items": objects}).to_string(),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    for args in [
        &["status", "-o", "wide", "-f", f][..],
        &["explain", "-f", f],
        &["explain", "-o", "json", "-f", f],
    ] {
        let run = initctl(args, None);
        assert_terminal_safe(&run, &args.join(" "));
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
}

#[test]
fn server_error_text_is_one_safe_line() {
    let server = ApiServer::start();
    let kubeconfig = server.kubeconfig(Some("seed"));
    let page = format!(
        "<!DOCTYPE html>\r\n<html>\r\n<head><title>502 Bad Gateway{EVIL}</title></head>\r\n\
         <body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
         {}</body>\r\n</html>\r\n",
        "<p>padding</p>\n".repeat(500)
    );
    server.fault(Fault::html("/pods", 502, &page).times(1));
    let run = initctl(&["status"], Some(&kubeconfig));
    assert_terminal_safe(&run, "status against a 502 page");
    let line = run.one_error_line(1);
    assert!(
        line.starts_with("error: 502 Bad Gateway\\u{1b}]52;c;"),
        "{line}"
    );
    assert!(line.len() < 200, "{line}");

    let forged = format!("denied{EVIL}\nerror: forged second line\r\n");
    server.fault(Fault {
        message: Some(forged),
        ..Fault::error("/pods", 403)
    });
    let run = initctl(&["status"], Some(&kubeconfig));
    assert_terminal_safe(&run, "status against a hostile Status");
    let line = run.one_error_line(1);
    assert!(line.ends_with("x error: forged second line"), "{line}");
}

#[test]
fn a_watch_error_event_is_one_safe_line() {
    let objects = hostile_objects();
    let server = hostile_server(&objects);
    let kubeconfig = server.kubeconfig(Some("seed"));
    server.fault(Fault::watch_error(
        "watch=",
        500,
        &format!("etcd{EVIL}\nerror: forged"),
    ));
    let child = harness::scrubbed(&harness::bin())
        .args(["status", "-w"])
        .env("KUBECONFIG", &kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let pid = child.id();
    let out = std::thread::spawn(move || child.wait_with_output().unwrap());
    while !out.is_finished() {
        assert!(
            Instant::now() < deadline,
            "status -w (pid {pid}) did not stop on ERROR"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = out.join().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    };
    assert_terminal_safe(&run, "status -w ending in a watch ERROR");
    let line = run.one_error_line(1);
    assert!(line.starts_with("error: etcd\\u{1b}]52;"), "{line}");
}

#[test]
fn a_password_in_the_server_url_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    // Port 1 on loopback: refused at once.
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://admin:s3cret@127.0.0.1:1\n\
         users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
    )
    .unwrap();
    let run = initctl(&["status"], Some(Path::new(&kubeconfig)));
    let line = run.one_error_line(1);
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    assert!(line.contains("admin:***@127.0.0.1:1"), "{line}");
}

#[test]
fn a_huge_single_line_log_is_read_and_quoted_bounded() {
    let path = harness::fixtures().join("explain/init-crashloop.yaml");
    let server = ApiServer::start();
    server.load_file(&path);
    let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let pod = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Pod")
        .unwrap();
    let name = pod["metadata"]["name"].as_str().unwrap();
    let huge = format!("{}\n", "z".repeat(20 << 20));
    server.set_log("seed", name, "init-migrate", true, &huge);
    let kubeconfig = server.kubeconfig(Some("seed"));
    let started = Instant::now();
    let run = initctl(&["explain", name], Some(&kubeconfig));
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        run.ok().len() < 64 * 1024,
        "{} bytes of output",
        run.stdout.len()
    );
    assert!(run.stdout.contains("z… [cut: "), "{}", run.stdout);
    // A server that ignores limitBytes sends all 20 MB: no more than the limit is read.
    server.fault(Fault::ignore_limit_bytes("/log").times(2));
    let run = initctl(&["explain", name], Some(&kubeconfig));
    assert!(run.ok().len() < 64 * 1024, "{} bytes", run.stdout.len());
    let left_out: usize = run
        .stdout
        .split("z… [cut: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        left_out < 4 << 20,
        "read {left_out} characters past the cut"
    );
    let logs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/log"))
        .collect();
    assert!(!logs.is_empty());
    for r in logs {
        let limit: u64 = r.query["limitBytes"].parse().unwrap();
        assert!(limit <= 4 << 20, "{r:?}");
    }
}
