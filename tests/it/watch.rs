//! `status -w` off a terminal: one aligned line per change, `--output-watch-events`, deletions
//! shown, and a 410 re-list that reports only what changed while the watch was down.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault};
use crate::harness;

fn pod(name: &str, phase: &str, ready: bool) -> Value {
    let app_state = if ready {
        json!({"running": {"startedAt": "2026-11-27T11:00:10Z"}})
    } else {
        json!({"waiting": {"reason": "PodInitializing"}})
    };
    let init_state = if ready {
        json!({"terminated": {"exitCode": 0, "reason": "Completed",
            "startedAt": "2026-11-27T11:00:05Z", "finishedAt": "2026-11-27T11:00:09Z"}})
    } else {
        json!({"running": {"startedAt": "2026-11-27T11:00:05Z"}})
    };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
            "creationTimestamp": "2026-11-27T11:00:00Z"},
        "spec": {"nodeName": "node-1",
            "initContainers": [{"name": "wait-for-db", "image": "busybox:1.36"}],
            "containers": [{"name": "app", "image": "nginx:1.27"}]},
        "status": {"phase": phase,
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "initContainerStatuses": [{"name": "wait-for-db", "image": "busybox:1.36", "imageID": "",
                "ready": ready, "restartCount": 0, "started": !ready, "state": init_state}],
            "containerStatuses": [{"name": "app", "image": "nginx:1.27", "imageID": "", "ready": ready,
                "started": ready, "restartCount": 0, "state": app_state}]}})
}

struct Watching {
    child: Child,
    lines: Receiver<String>,
}

impl Watching {
    fn start(server: &ApiServer, args: &[&str]) -> Watching {
        let mut child = harness::scrubbed(&harness::bin())
            .args(["status", "-w"])
            .args(args)
            .env("KUBECONFIG", server.kubeconfig(Some("shop")))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watching { child, lines }
    }

    /// The next line, within 20 s (a watch that prints nothing fails the test, never hangs it).
    fn line(&mut self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a line within 20 s")
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn watches(server: &ApiServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| {
            r.query
                .get("watch")
                .is_some_and(|w| w == "true" || w == "1")
        })
        .count()
}

fn wait_for_watches(server: &ApiServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while watches(server) < n {
        assert!(Instant::now() < deadline, "no watch request #{n}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Where a column starts on the header line.
fn column(header: &str, name: &str) -> usize {
    header.find(name).unwrap()
}

#[test]
fn each_change_is_one_aligned_line_with_its_event() {
    let server = ApiServer::start();
    server.insert(pod("cart-7d9f8-x2x9z", "Pending", false));
    server.insert(pod("checkout-5b6c7-qq8r4", "Running", true));
    let mut w = Watching::start(&server, &["--output-watch-events"]);
    let header = w.line();
    assert!(header.starts_with("EVENT "), "{header}");
    let listed = [w.line(), w.line()];
    for line in &listed {
        assert!(line.starts_with("ADDED "), "{line}");
    }
    wait_for_watches(&server, 1);
    server.insert(pod("cart-7d9f8-x2x9z", "Running", true));
    let modified = w.line();
    server.insert(pod(
        "a-new-pod-with-a-much-longer-name-zz",
        "Pending",
        false,
    ));
    let added = w.line();
    let gone = server
        .get("v1", "Pod", Some("shop"), "checkout-5b6c7-qq8r4")
        .unwrap();
    server.push_watch_event("DELETED", gone);
    let deleted = w.line();
    assert!(modified.starts_with("MODIFIED "), "{modified}");
    assert!(added.starts_with("ADDED "), "{added}");
    assert!(deleted.starts_with("DELETED "), "{deleted}");
    // Each line on the header's columns (a name wider than the column pushes only its row).
    for line in [&listed[0], &listed[1], &modified, &deleted] {
        assert_eq!(
            line.find("cart").or(line.find("checkout")),
            Some(column(&header, "NAME")),
            "{header}\n{line}"
        );
        let status = if line.starts_with("DELETED") {
            "Deleted"
        } else if line.contains("Running") {
            "Running"
        } else {
            "Init:0/1"
        };
        assert_eq!(
            line.find(status),
            Some(column(&header, "STATUS")),
            "{header}\n{line}"
        );
    }
    assert!(
        modified.contains("1/1") && modified.contains("Running"),
        "{modified}"
    );
    assert!(deleted.contains("checkout-5b6c7-qq8r4"), "{deleted}");
}

#[test]
fn after_410_the_relist_shows_only_what_changed_and_who_was_deleted() {
    let server = ApiServer::start();
    for name in ["api-0", "api-1", "api-2"] {
        server.insert(pod(name, "Pending", false));
    }
    // The first watch ends at once; the second is held open 2 s (the test changes the store
    // meanwhile, unseen), then answers 410 Gone, so the client lists again.
    server.fault(Fault::drop_watch("watch=", 0).times(1));
    server.fault(
        Fault {
            delay: Some(Duration::from_secs(2)),
            ..Fault::watch_error("watch=", 410, "too old resource version")
        }
        .times(1),
    );
    let mut w = Watching::start(&server, &["--no-headers"]);
    let listed = [w.line(), w.line(), w.line()];
    assert!(listed.iter().all(|l| l.contains("Init:0/1")), "{listed:?}");
    wait_for_watches(&server, 2);
    // Unseen by any watch: api-0 becomes ready, api-1 is deleted, api-2 stays as it was.
    server.insert(pod("api-0", "Running", true));
    let gone = server.get("v1", "Pod", Some("shop"), "api-1").unwrap();
    server.push_watch_event("DELETED", gone);
    let changed = w.line();
    let deleted = w.line();
    assert!(
        changed.starts_with("api-0") && changed.contains("Running"),
        "{changed}"
    );
    assert!(
        deleted.starts_with("api-1") && deleted.contains("Deleted"),
        "{deleted}"
    );
    // Then the watch is followed again; api-2, unchanged, was not printed again.
    wait_for_watches(&server, 3);
    server.insert(pod("api-2", "Running", true));
    let next = w.line();
    assert!(
        next.starts_with("api-2") && next.contains("Running"),
        "{next}"
    );
}

#[test]
fn on_a_terminal_the_table_is_redrawn_in_place() {
    // A pseudo-terminal from util-linux `script`, as a user's terminal would be.
    let Ok(script) = which("script") else {
        eprintln!("script (util-linux) is not installed: skipping the terminal test");
        return;
    };
    let server = ApiServer::start();
    server.insert(pod("cart-7d9f8-x2x9z", "Pending", false));
    server.insert(pod("checkout-5b6c7-qq8r4", "Running", true));
    let command = format!("{} status -w", harness::bin().display());
    let mut child = harness::scrubbed(&script)
        .args(["-q", "-f", "-e", "-c", &command, "/dev/null"])
        .env("KUBECONFIG", server.kubeconfig(Some("shop")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, chunks) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut until = |what: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !what(&seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match chunks.recv_timeout(left) {
                Ok(chunk) => seen.push_str(&chunk),
                Err(_) => panic!("not seen on the terminal:\n{seen}"),
            }
        }
        seen.clone()
    };
    let first = until(&|s| harness::strip_ansi(s).contains("Every change"));
    wait_for_watches(&server, 1);
    server.insert(pod("cart-7d9f8-x2x9z", "Running", true));
    let after = until(&|s| {
        harness::strip_ansi(s).matches("Every change").count() >= 2 && s.ends_with("\x1b[J")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("\x1b[H"), "drawn from the top: {first:?}");
    // The last frame, as the user sees it.
    let frame = harness::strip_ansi(after.rsplit("\x1b[H").next().unwrap());
    let lines: Vec<&str> = frame.lines().map(str::trim_end).collect();
    assert!(lines[0].starts_with("Every change · "), "{frame}");
    assert!(lines[0].ends_with(" · 2 pods, 0 stuck"), "{frame}");
    assert!(lines[1].starts_with("  NAME "), "{frame}");
    assert!(
        lines[2].starts_with("* cart-7d9f8-x2x9z") && lines[2].contains("Running"),
        "changed, marked: {frame}"
    );
    assert!(
        lines[3].starts_with("  checkout-5b6c7-qq8r4"),
        "unchanged, unmarked: {frame}"
    );
    let status = lines[1].find("STATUS").unwrap();
    assert_eq!(lines[2].find("Running"), Some(status), "{frame}");
    assert_eq!(lines[3].find("Running"), Some(status), "{frame}");
    // The first frame counted the pending pod as stuck.
    assert!(
        harness::strip_ansi(&first).contains(" · 2 pods, 1 stuck"),
        "{first:?}"
    );
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}
