use super::*;
use k8s_openapi::api::core::v1::Container;

fn container(spec: serde_json::Value) -> Container {
    let mut spec = spec;
    spec["name"] = "init".into();
    serde_json::from_value(spec).unwrap()
}

fn script(script: &str) -> Container {
    container(serde_json::json!({"command": ["sh", "-c", script]}))
}

/// (tool, host, port, in_loop) of each target.
fn summary(targets: &[WaitTarget]) -> Vec<(&str, &str, Option<u16>, bool)> {
    targets
        .iter()
        .map(|t| (t.tool.as_str(), t.host.as_str(), t.port, t.in_loop))
        .collect()
}

fn svc(name: &str, namespace: &str) -> Option<ServiceRef> {
    Some(ServiceRef {
        name: name.into(),
        namespace: namespace.into(),
    })
}

#[test]
fn kubernetes_docs_myapp_pod() {
    let c = script(
        "until nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; do echo waiting for myservice; sleep 2; done",
    );
    let targets = wait_targets(&c, "seed");
    assert_eq!(
        targets,
        [WaitTarget {
            tool: "nslookup".into(),
            host: "myservice.seed.svc.cluster.local".into(),
            port: None,
            url: None,
            in_loop: true,
            fragment: "nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local".into(),
        }]
    );
    assert_eq!(
        resolve_service(&targets[0].host, "seed"),
        svc("myservice", "seed")
    );
}

#[test]
fn backtick_namespace_and_multiline_script() {
    let c = container(serde_json::json!({
        "command": ["/bin/sh", "-ec"],
        "args": ["while ! nslookup mydb.`cat /var/run/secrets/kubernetes.io/serviceaccount/namespace`\ndo\n  echo 'waiting; for db'  # comment: nc -z x 1\n  sleep 2\ndone\n"],
    }));
    assert_eq!(
        summary(&wait_targets(&c, "shop")),
        [("nslookup", "mydb.shop", None, true)]
    );
}

#[test]
fn nc_loop() {
    let c = script("until nc -z postgres 5432; do sleep 1; done");
    let targets = wait_targets(&c, "default");
    assert_eq!(summary(&targets), [("nc", "postgres", Some(5432), true)]);
    assert_eq!(targets[0].fragment, "nc -z postgres 5432");
}

#[test]
fn nc_variants_and_telnet() {
    let c = script(
        "nc -zv -w 2 redis 6379 && ncat --wait 3 mq 5672 </dev/null; nc -w1 cache 11211; telnet ldap 389; nc -l -p 8080",
    );
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [
            ("nc", "redis", Some(6379), false),
            ("ncat", "mq", Some(5672), false),
            ("nc", "cache", Some(11211), false),
            ("telnet", "ldap", Some(389), false),
        ]
    );
}

#[test]
fn pg_isready_in_for_retry_loop_with_env_host() {
    let c = container(serde_json::json!({
        "command": ["sh", "-c", "for i in $(seq 1 30); do pg_isready -h $DB_HOST -p 5432 && exit 0; sleep 2; done; exit 1"],
        "env": [{"name": "DB_HOST", "value": "orders-db.data"}],
    }));
    let targets = wait_targets(&c, "shop");
    assert_eq!(
        summary(&targets),
        [("pg_isready", "orders-db.data", Some(5432), true)]
    );
    assert_eq!(targets[0].fragment, "pg_isready -h $DB_HOST -p 5432");
    assert_eq!(
        resolve_service(&targets[0].host, "shop"),
        svc("orders-db", "data")
    );
}

#[test]
fn database_clients() {
    let c = container(serde_json::json!({
        "command": ["bash", "-c", r#"
            until pg_isready --host=pg --port=6432; do sleep 1; done
            until mysqladmin ping -h"${MYSQL_HOST}" -P 3307 -uroot -p"$PW" --silent; do sleep 1; done
            until redis-cli -h redis-master -a "$PASS" ping | grep -q PONG; do sleep 1; done
            until mongosh --host rs0/mongo-0.mongo:27017 --eval 'db.runCommand("ping")'; do sleep 2; done
            until psql postgresql://app@pg-primary:5433/app -c 'select 1'; do sleep 1; done
            pg_isready && redis-cli ping
        "#],
        "env": [{"name": "MYSQL_HOST", "value": "mysql.db"}],
    }));
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [
            ("pg_isready", "pg", Some(6432), true),
            ("mysqladmin", "mysql.db", Some(3307), true),
            ("redis-cli", "redis-master", Some(6379), true),
            ("mongosh", "mongo-0.mongo", Some(27017), true),
            ("psql", "pg-primary", Some(5433), true),
        ]
    );
}

#[test]
fn pg_client_falls_back_to_pghost() {
    let c = container(serde_json::json!({
        "command": ["sh", "-c", "until pg_isready; do sleep 1; done"],
        "env": [{"name": "PGHOST", "value": "db"}, {"name": "PGPORT", "value": "5433"}],
    }));
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [("pg_isready", "db", Some(5433), true)]
    );
}

#[test]
fn wait_for_it_exec_form() {
    let c = container(serde_json::json!({
        "command": ["/bin/wait-for-it.sh", "mysql:3306", "-t", "0"],
    }));
    let targets = wait_targets(&c, "ns");
    assert_eq!(
        summary(&targets),
        [("wait-for-it", "mysql", Some(3306), true)]
    );
    assert_eq!(targets[0].fragment, "/bin/wait-for-it.sh mysql:3306 -t 0");
}

#[test]
fn wait_for_it_variants_chain() {
    let c = script(
        "./wait-for-it.sh -h db -p 5432 -t 60 -- ./wait-for-it.sh kafka:9092 -s -- java -jar app.jar",
    );
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [
            ("wait-for-it", "db", Some(5432), true),
            ("wait-for-it", "kafka", Some(9092), true),
        ]
    );
}

#[test]
fn wget_spider() {
    let c = script("wget --spider -q http://config.seed.svc/ready");
    let targets = wait_targets(&c, "other");
    assert_eq!(
        summary(&targets),
        [("wget", "config.seed.svc", Some(80), false)]
    );
    assert_eq!(
        targets[0].url.as_deref(),
        Some("http://config.seed.svc/ready")
    );
    assert_eq!(
        resolve_service(&targets[0].host, "other"),
        svc("config", "seed")
    );
}

#[test]
fn wget_output_options() {
    let c = script("until wget -qO- -T 2 config:8080/healthz; do sleep 2; done");
    let targets = wait_targets(&c, "ns");
    assert_eq!(summary(&targets), [("wget", "config", Some(8080), true)]);
}

#[test]
fn curl_health_check() {
    let c = script(
        "until curl -fsS -o /dev/null -w '%{http_code}' --max-time 2 https://vault.vault.svc:8200/v1/sys/health; do sleep 5; done",
    );
    let targets = wait_targets(&c, "app");
    assert_eq!(
        summary(&targets),
        [("curl", "vault.vault.svc", Some(8200), true)]
    );
    assert_eq!(
        targets[0].url.as_deref(),
        Some("https://vault.vault.svc:8200/v1/sys/health")
    );
    assert_eq!(
        resolve_service(&targets[0].host, "app"),
        svc("vault", "vault")
    );
}

#[test]
fn curl_exec_form_default_port() {
    let c = container(serde_json::json!({
        "command": ["curl", "-sf", "https://keycloak/realms/master"],
    }));
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [("curl", "keycloak", Some(443), false)]
    );
}

#[test]
fn curl_inside_test_command_substitution() {
    let c = script(
        r#"until [ "$(curl -s -o /dev/null -w '%{http_code}' http://api:8080/ready)" = "200" ]; do sleep 1; done"#,
    );
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [("curl", "api", Some(8080), true)]
    );
}

#[test]
fn kubelet_expands_pod_namespace_from_literal_env() {
    let c = container(serde_json::json!({
        "command": ["sh", "-c", "until nslookup myservice.$(POD_NAMESPACE).svc.cluster.local; do sleep 2; done"],
        "env": [{"name": "POD_NAMESPACE", "value": "staging"}],
    }));
    let targets = wait_targets(&c, "ignored");
    assert_eq!(
        summary(&targets),
        [(
            "nslookup",
            "myservice.staging.svc.cluster.local",
            None,
            true
        )]
    );
    // The fragment is what the shell received, after the kubelet's expansion.
    assert_eq!(
        targets[0].fragment,
        "nslookup myservice.staging.svc.cluster.local"
    );
}

#[test]
fn downward_api_namespace_in_shell_and_kubelet_forms() {
    let c = container(serde_json::json!({
        "command": ["sh", "-c", "until nslookup api.${MY_POD_NAMESPACE}.svc && nc -z db.$POD_NAMESPACE 5432 && nc -z cache.$(POD_NAMESPACE) 6379 && nc -z x.$SECRET_NS 1; do sleep 1; done"],
        "env": [
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "MY_POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
            {"name": "SECRET_NS", "valueFrom": {"secretKeyRef": {"name": "s", "key": "ns"}}},
        ],
    }));
    assert_eq!(
        summary(&wait_targets(&c, "prod")),
        [
            ("nslookup", "api.prod.svc", None, true),
            ("nc", "db.prod", Some(5432), true),
            ("nc", "cache.prod", Some(6379), true),
            ("nc", "x.$SECRET_NS", Some(1), true),
        ]
    );
}

#[test]
fn script_assignments_defaults_and_quotes() {
    let c = script(
        "set -eu\nHOST=\"${DB_HOST:-postgres}\"\nPORT=5432\nwhile ! nc -z \"$HOST\" \"$PORT\"; do echo \"waiting for $HOST:$PORT\"; sleep 1; done",
    );
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [("nc", "postgres", Some(5432), true)]
    );
}

#[test]
fn dns_tools() {
    let c = script(
        "dig +short @10.96.0.10 api.default.svc.cluster.local A; host -W 2 ldap.auth; getent hosts search; echo nslookup fake",
    );
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [
            ("dig", "api.default.svc.cluster.local", None, false),
            ("host", "ldap.auth", None, false),
            ("getent", "search", None, false),
        ]
    );
}

#[test]
fn dev_tcp_under_timeout_and_nested_shell() {
    let c = script(
        "until timeout 1 bash -c '</dev/tcp/rabbitmq/5672' 2>/dev/null; do sleep 1; done; exec 3<>/dev/tcp/etcd/2379",
    );
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [
            ("/dev/tcp", "rabbitmq", Some(5672), true),
            ("/dev/tcp", "etcd", Some(2379), false),
        ]
    );
}

#[test]
fn dockerize_and_wait4x() {
    let c = container(serde_json::json!({
        "command": ["dockerize", "-wait", "tcp://db:5432", "-wait", "http://web:8000/health", "-timeout", "60s"],
    }));
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [
            ("dockerize", "db", Some(5432), true),
            ("dockerize", "web", Some(8000), true)
        ]
    );
    let c = script("wait4x tcp mq:5672 --timeout 60s");
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [("wait4x", "mq", Some(5672), true)]
    );
}

#[test]
fn heredoc_bodies_are_not_commands() {
    let c = script(
        "cat <<EOF > /etc/app.conf\nhost db\nnc -z fake 1\nEOF\nuntil nc -z real 80; do sleep 1; done",
    );
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [("nc", "real", Some(80), true)]
    );
}

#[test]
fn duplicates_merge() {
    let c = script("nc -z db 5432 || (sleep 5; until nc -z db 5432; do sleep 1; done)");
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [("nc", "db", Some(5432), true)]
    );
}

#[test]
fn empty_value_is_not_unknown() {
    let c = container(serde_json::json!({
        "command": ["sh", "-c", "nc -z db$SUFFIX 5432; nc -z ${CACHE:-redis} 6379"],
        "env": [{"name": "SUFFIX", "value": ""}, {"name": "CACHE", "value": ""}],
    }));
    assert_eq!(
        summary(&wait_targets(&c, "ns")),
        [
            ("nc", "db", Some(5432), false),
            ("nc", "redis", Some(6379), false)
        ]
    );
}

#[test]
fn serializes_camel_case() {
    let c = script("until nc -z db 5432; do sleep 1; done");
    let json = serde_json::to_value(&wait_targets(&c, "ns")[0]).unwrap();
    assert_eq!(json["inLoop"], true);
    assert_eq!(json["url"], serde_json::Value::Null);
}

#[test]
fn no_wait_at_all() {
    let c = script("cp -r /seed/. /data/ && chown -R 1000:1000 /data; echo done > /data/.ready");
    assert!(wait_targets(&c, "ns").is_empty());
    let c = container(serde_json::json!({"image": "migrate", "args": ["--up"]}));
    assert!(wait_targets(&c, "ns").is_empty());
    let c = container(serde_json::json!({"command": ["sh", "/scripts/init.sh"]}));
    assert!(wait_targets(&c, "ns").is_empty());
}
