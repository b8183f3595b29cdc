//! Readers for the tools people wait with: what host, port or URL each one's arguments name.

use super::Vars;
use super::analyzer::{Analyzer, CommandContext};
use super::getopt::getopt;

impl Analyzer<'_> {
    /// Reads one tool's command line (the program's base name, without `.sh`).
    pub(super) fn tool(
        &mut self,
        name: &str,
        args: &[String],
        vars: &Vars,
        context: &CommandContext,
    ) {
        match name {
            "nslookup" | "host" | "dig" | "getent" | "ping" => {
                if let Some(host) = looked_up_host(name, args) {
                    self.push(context, name, host, None);
                }
            }
            "nc" | "ncat" | "netcat" | "telnet" => {
                if let Some((host, port)) = probed_port(name, args) {
                    self.push(context, name, host, port);
                }
            }
            "wget" | "curl" => {
                if let Some(url) = fetched_url(name, args) {
                    self.push_url(context, name, url, false);
                }
            }
            "wait-for-it" | "wait-for" => self.wait_for_it(args, vars, context),
            "wait4x" => self.wait4x(args, vars, context),
            "dockerize" => {
                for url in dockerize_waits(args) {
                    self.push_url(context, name, url, true);
                }
            }
            _ => self.database_client(name, args, vars, context),
        }
    }

    /// `wait-for-it HOST:PORT`, `wait-for-it -h HOST -p PORT`, and the command after `--`.
    fn wait_for_it(&mut self, args: &[String], vars: &Vars, context: &CommandContext) {
        let parsed = getopt(args, "hpt", &["--host", "--port", "--timeout"]);
        if let Some(host) = parsed.value(&["-h", "--host"]) {
            let port = parsed.value(&["-p", "--port"]).and_then(|p| p.parse().ok());
            self.push_looping(context, "wait-for-it", host, port, None, true);
        }
        for target in &parsed.positionals {
            self.push_address(context, "wait-for-it", target);
        }
        // `wait-for-it db:5432 -- wait-for-it cache:6379 -- app`
        self.argv(parsed.after_dashdash, vars, context);
    }

    /// `wait4x tcp HOST:PORT`, `wait4x http URL`, `wait4x redis URI`; other checks take DSNs that
    /// are not addresses.
    fn wait4x(&mut self, args: &[String], vars: &Vars, context: &CommandContext) {
        let parsed = getopt(args, "ti", &["--timeout", "--interval"]);
        let check = parsed.positionals.first().copied().unwrap_or_default();
        for target in parsed.positionals.iter().skip(1) {
            if check == "tcp" || target.contains("://") {
                self.push_address(context, "wait4x", target);
            }
        }
        self.argv(parsed.after_dashdash, vars, context);
    }

    /// A URL target; nothing when it names no host.
    fn push_url(&mut self, context: &CommandContext, tool: &str, url: &str, tool_loops: bool) {
        if let Some((host, port)) = split_url(url) {
            self.push_looping(context, tool, host, port, Some(url), tool_loops);
        }
    }

    /// `HOST:PORT` or a URL, as wait-for-it style tools take them.
    fn push_address(&mut self, context: &CommandContext, tool: &str, target: &str) {
        if target.contains("://") {
            self.push_url(context, tool, target, true);
        } else {
            let (host, port) = split_host_port(target);
            self.push_looping(context, tool, host, port, None, true);
        }
    }

    /// Database clients used as readiness checks: host and port flags, a URI, or the client's
    /// environment variables.
    fn database_client(
        &mut self,
        name: &str,
        args: &[String],
        vars: &Vars,
        context: &CommandContext,
    ) {
        let Some(client) = DATABASE_CLIENTS.iter().find(|c| c.names.contains(&name)) else {
            return;
        };
        // MySQL's `-pSECRET` would otherwise read as a cluster of flags ending in `-P ECRET`.
        let args: Vec<String> = args
            .iter()
            .filter(|a| client.attached_only.is_none_or(|p| !a.starts_with(p)))
            .cloned()
            .collect();
        let parsed = getopt(&args, client.value_shorts, &["--host", "--port"]);
        let uri = parsed
            .options
            .iter()
            .map(|(_, v)| *v)
            .chain(parsed.positionals.iter().copied())
            .find(|v| v.contains("://"));
        let from_uri = uri.and_then(split_url);
        let env = |key: Option<&str>| key.and_then(|k| vars.get(k)).map(String::as_str);
        let host = parsed
            .value(client.host)
            // mongosh `--host rs0/db-0:27017,db-1:27017`
            .map(|h| h.rsplit('/').next().unwrap_or(h))
            .map(split_host_port)
            .or(from_uri)
            .or_else(|| env(client.host_env).map(split_host_port));
        let Some((host, host_port)) = host else {
            // No host: a local socket or localhost, never a Service.
            return;
        };
        let port = parsed
            .value(client.port)
            .and_then(|p| p.parse().ok())
            .or(host_port)
            .or_else(|| env(client.port_env).and_then(|p| p.parse().ok()))
            .unwrap_or(client.default_port);
        self.push_looping(context, name, host, Some(port), uri, false);
    }

    /// bash's `/dev/tcp/HOST/PORT` (and `/dev/udp`) redirection targets.
    pub(super) fn dev_tcp(&mut self, target: &str, context: &CommandContext) {
        let rest = target
            .strip_prefix("/dev/tcp/")
            .or_else(|| target.strip_prefix("/dev/udp/"));
        if let Some((host, port)) = rest.and_then(|r| r.split_once('/')) {
            self.push(context, "/dev/tcp", host, port.parse().ok());
        }
    }
}

/// The name a DNS lookup tool (`nslookup`, `host`, `dig`, `getent hosts`) or `ping` resolves.
fn looked_up_host<'a>(tool: &str, args: &'a [String]) -> Option<&'a str> {
    match tool {
        "dig" => {
            let parsed = getopt(args, "bcfkpqtxy", &[]);
            parsed.value(&["-q"]).or_else(|| {
                parsed
                    .positionals
                    .iter()
                    .copied()
                    .find(|p| !p.starts_with('@') && !is_record_type(p))
            })
        }
        "getent" => match getopt(args, "s", &[]).positionals.as_slice() {
            [db, host, ..] if db.starts_with("hosts") || db.starts_with("ahosts") => Some(*host),
            _ => None,
        },
        _ => {
            let value_shorts = match tool {
                "host" => "tcWNRm",
                "ping" => "cWwistIQlpM",
                _ => "",
            };
            getopt(args, value_shorts, &[]).positionals.first().copied()
        }
    }
}

/// Host and port that `nc`, `ncat`, `netcat` or `telnet` connects to; `None` for a listener.
fn probed_port<'a>(tool: &str, args: &'a [String]) -> Option<(&'a str, Option<u16>)> {
    let value_shorts = if tool == "telnet" {
        "lebn"
    } else {
        "wWipsqXxecIOTbPMm"
    };
    let parsed = getopt(
        args,
        value_shorts,
        &[
            "--wait",
            "--source-port",
            "--source",
            "--sh-exec",
            "--exec",
            "--proxy",
        ],
    );
    // A listener is a server, not a wait.
    if parsed.flag("-l") || parsed.flag("--listen") {
        return None;
    }
    let host = parsed.positionals.first()?;
    let port = parsed.positionals.get(1).and_then(|p| p.parse().ok());
    Some((host, port))
}

/// The URL `wget` or `curl` fetches.
fn fetched_url<'a>(tool: &str, args: &'a [String]) -> Option<&'a str> {
    if tool == "curl" {
        let parsed = getopt(args, "oHdXmuwAeEbcTxFKrYyzCDUQt", CURL_LONG_VALUES);
        parsed
            .value(&["--url"])
            .or_else(|| parsed.positionals.first().copied())
    } else {
        getopt(args, "OoaTtwUPeYBiDQ", WGET_LONG_VALUES)
            .positionals
            .first()
            .copied()
    }
}

/// The addresses of `dockerize -wait X` (Go flags: also `--wait X`, `-wait=X`); unix sockets
/// are not network waits.
fn dockerize_waits(args: &[String]) -> Vec<&str> {
    let mut waits = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix('-') else {
            continue;
        };
        let value = match flag.trim_start_matches('-').split_once('=') {
            Some(("wait", value)) => Some(value),
            None if flag.trim_start_matches('-') == "wait" => it.next().map(String::as_str),
            _ => None,
        };
        waits.extend(value.filter(|v| !v.starts_with("unix:")));
    }
    waits
}

/// Database clients: flags that name the server, its default port, and the environment variables
/// the client falls back to.
struct DatabaseClient {
    names: &'static [&'static str],
    /// Short options that take a value (so their values are not taken for positionals).
    value_shorts: &'static str,
    /// An option whose value can only be attached (`-pSECRET`): dropped before parsing.
    attached_only: Option<&'static str>,
    host: &'static [&'static str],
    port: &'static [&'static str],
    default_port: u16,
    host_env: Option<&'static str>,
    port_env: Option<&'static str>,
}

const DATABASE_CLIENTS: &[DatabaseClient] = &[
    DatabaseClient {
        names: &["pg_isready", "psql"],
        value_shorts: "hpdUtcfvoLTPFR",
        attached_only: None,
        host: &["-h", "--host"],
        port: &["-p", "--port"],
        default_port: 5432,
        host_env: Some("PGHOST"),
        port_env: Some("PGPORT"),
    },
    DatabaseClient {
        names: &["mysqladmin", "mysql"],
        value_shorts: "hPuSeDci",
        attached_only: Some("-p"),
        host: &["-h", "--host"],
        port: &["-P", "--port"],
        default_port: 3306,
        host_env: Some("MYSQL_HOST"),
        port_env: Some("MYSQL_TCP_PORT"),
    },
    DatabaseClient {
        names: &["redis-cli"],
        value_shorts: "hpanusri",
        attached_only: None,
        host: &["-h"],
        port: &["-p"],
        default_port: 6379,
        host_env: None,
        port_env: None,
    },
    DatabaseClient {
        names: &["mongosh", "mongo"],
        value_shorts: "up",
        attached_only: None,
        host: &["--host"],
        port: &["--port"],
        default_port: 27017,
        host_env: None,
        port_env: None,
    },
];

const WGET_LONG_VALUES: &[&str] = &[
    "--header",
    "--timeout",
    "--tries",
    "--user-agent",
    "--output-document",
    "--output-file",
    "--post-data",
    "--post-file",
    "--method",
    "--body-data",
    "--wait",
    "--user",
    "--password",
    "--ca-certificate",
    "--certificate",
    "--private-key",
    "--directory-prefix",
    "--connect-timeout",
    "--read-timeout",
    "--dns-timeout",
];

const CURL_LONG_VALUES: &[&str] = &[
    "--header",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "--request",
    "--max-time",
    "--connect-timeout",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "--output",
    "--write-out",
    "--user",
    "--user-agent",
    "--cacert",
    "--capath",
    "--cert",
    "--key",
    "--resolve",
    "--connect-to",
    "--url",
    "--proxy",
    "--form",
    "--config",
    "--cookie",
    "--unix-socket",
    "--interface",
    "--oauth2-bearer",
];

fn is_record_type(word: &str) -> bool {
    const TYPES: &[&str] = &[
        "a", "aaaa", "any", "cname", "mx", "ns", "ptr", "soa", "srv", "txt", "in",
    ];
    TYPES.contains(&word.to_ascii_lowercase().as_str())
}

/// Host and port of a URL; the port defaults by scheme. A URL without a scheme is HTTP, as curl
/// and wget assume.
fn split_url(url: &str) -> Option<(&str, Option<u16>)> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_host_port(host_port);
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "postgres" | "postgresql" => Some(5432),
        "mysql" => Some(3306),
        "redis" | "rediss" => Some(6379),
        "mongodb" => Some(27017),
        _ => None,
    };
    (!host.is_empty()).then_some((host, port.or(default)))
}

/// `host:port`, `[v6]:port`, or a bare host; of a list (`a:1,b:2`) the first.
fn split_host_port(target: &str) -> (&str, Option<u16>) {
    let target = target.split(',').next().unwrap_or(target);
    if let Some((host, after)) = target
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
    {
        return (host, after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, port.parse().ok()),
        _ => (target, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn dockerize_wait_forms_skip_unix_sockets() {
        let a =
            args("-wait tcp://db:5432 --wait=http://web/ -wait unix:///var/run/x.sock -timeout 9s");
        assert_eq!(dockerize_waits(&a), ["tcp://db:5432", "http://web/"]);
    }

    #[test]
    fn nc_listener_is_not_a_wait() {
        assert_eq!(probed_port("nc", &args("-l -p 8080")), None);
        assert_eq!(probed_port("nc", &args("--listen 8080")), None);
        assert_eq!(
            probed_port("nc", &args("-zv -w 2 redis 6379")),
            Some(("redis", Some(6379)))
        );
    }

    #[test]
    fn lookup_tools_skip_their_option_values() {
        assert_eq!(looked_up_host("ping", &args("-c 1 -W 2 db")), Some("db"));
        assert_eq!(
            looked_up_host("dig", &args("@10.0.0.10 -q api MX")),
            Some("api")
        );
        assert_eq!(looked_up_host("getent", &args("passwd root")), None);
        assert_eq!(looked_up_host("getent", &args("ahostsv4 api")), Some("api"));
    }
}
