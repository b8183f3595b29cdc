//! The stand-in API server's own behaviour, over plain HTTP/1.1 on a `TcpStream`, so what is
//! checked is the wire format a client sees, not what a client library makes of it.

mod controls;
mod reads;
mod writes;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apiserver::{ApiServer, Fault};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/apiserver/testdata")
        .join(name)
}

fn seeded() -> ApiServer {
    let server = ApiServer::start();
    server.load_file(testdata("seed.json"));
    server
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn connect(server: &ApiServer) -> TcpStream {
    let stream = TcpStream::connect(server.url().trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

fn send(stream: &mut TcpStream, method: &str, path: &str, headers: &[(&str, &str)], body: &str) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("send request");
}

fn read_head(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            return (status, headers);
        }
        let (k, v) = l.split_once(':').expect("header line");
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
}

/// Reads one chunk of a chunked body; `None` at the last chunk or end of stream.
fn read_chunk(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut size = String::new();
    if reader.read_line(&mut size).ok()? == 0 {
        return None;
    }
    let n = usize::from_str_radix(size.trim(), 16).ok()?;
    if n == 0 {
        return None;
    }
    let mut data = vec![0; n + 2];
    reader.read_exact(&mut data).ok()?;
    data.truncate(n);
    Some(data)
}

fn http(
    server: &ApiServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut stream = connect(server);
    send(&mut stream, method, path, headers, body);
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let mut raw = Vec::new();
    if chunked {
        while let Some(chunk) = read_chunk(&mut reader) {
            raw.extend(chunk);
        }
    } else {
        reader.read_to_end(&mut raw).expect("body");
    }
    Resp {
        status,
        headers,
        body: String::from_utf8(raw).expect("utf-8 body"),
    }
}

fn get(server: &ApiServer, path: &str) -> Resp {
    http(server, "GET", path, &[], "")
}

fn patch(server: &ApiServer, path: &str, content_type: &str, body: Value) -> Resp {
    http(
        server,
        "PATCH",
        path,
        &[("Content-Type", content_type)],
        &body.to_string(),
    )
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name").to_string())
        .collect()
}

/// A watch stream read event by event.
struct Watch {
    reader: BufReader<TcpStream>,
    pending: String,
}

impl Watch {
    fn open(server: &ApiServer, path: &str) -> Watch {
        let mut stream = connect(server);
        send(&mut stream, "GET", path, &[], "");
        let mut reader = BufReader::new(stream);
        let (status, _) = read_head(&mut reader);
        assert_eq!(status, 200, "watch {path}");
        Watch {
            reader,
            pending: String::new(),
        }
    }

    fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(i) = self.pending.find('\n') {
                let line: String = self.pending.drain(..=i).collect();
                return Some(serde_json::from_str(&line).expect("watch event JSON"));
            }
            let chunk = read_chunk(&mut self.reader)?;
            self.pending
                .push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        }
    }
}

const SEED_PODS: &str = "/api/v1/namespaces/seed/pods";

fn pod_path(name: &str) -> String {
    format!("{SEED_PODS}/{name}")
}
