//! Expected outputs are what kubectl v1.32 prints for the same template over the same object
//! (`kubectl config view -o jsonpath=…` on this kubeconfig).

use serde_json::{Value, json};

use super::Template;

fn config() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "ca", "preferences": {},
        "clusters": [
            {"cluster": {"server": "https://a:6443"}, "name": "a"},
            {"cluster": {"server": "https://b:6443"}, "name": "b"}
        ],
        "contexts": [
            {"context": {"cluster": "a", "namespace": "ns1", "user": "u"}, "name": "ca"},
            {"context": {"cluster": "b", "user": "u", "namespace": null}, "name": "cb"}
        ],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "restarts": [3, 10, 2]
    })
}

fn run(template: &str) -> Result<String, String> {
    Template::parse(template)
        .and_then(|t| t.render(&config()))
        .map_err(|e| e.0)
}

#[test]
fn renders_as_kubectl_does() {
    let cases = [
        ("{.clusters[*].name}", "a b"),
        (
            "{.clusters[0]}",
            r#"{"cluster":{"server":"https://a:6443"},"name":"a"}"#,
        ),
        ("{.nope}", ""),
        ("{.clusters[*].cluster.nope}", ""),
        ("{.kind.x}", ""),
        ("{.}", ""),
        (
            r#"{range .clusters[*]}{.name}{"\t"}{.cluster.server}{"\n"}{end}"#,
            "a\thttps://a:6443\nb\thttps://b:6443\n",
        ),
        (
            r#"{.clusters[?(@.name=="b")].cluster.server}"#,
            "https://b:6443",
        ),
        (r#"{.clusters[?(@.name!="a")].name}"#, "b"),
        (r#"{.clusters[?(@.name<"b")].name}"#, "a"),
        (r#"{.clusters[?(@.name=="a" )].name}"#, "a"),
        ("{.clusters[?(@.cluster)].name}", "a b"),
        ("{.clusters[?(@.nope)].name}", ""),
        (r#"{.contexts[?(@.context.namespace=="ns1")].name}"#, "ca"),
        (r#"{.contexts[?(@.context.namespace!="ns1")].name}"#, ""),
        ("{.contexts[?(@.context.namespace)].name}", "ca"),
        ("{.contexts[*].context.namespace}", "ns1"),
        ("x{.kind}y", "xConfigy"),
        ("plain", "plain"),
        ("{..server}", "https://a:6443 https://b:6443"),
        ("{.contexts[*]..namespace}", "ns1"),
        ("{.clusters[-1:].name}", "b"),
        ("{.clusters[-1].name}", "b"),
        ("{.clusters[0:1].name}", "a"),
        ("{.clusters[2:2].name}", ""),
        ("{.clusters[0,1].name}", "a b"),
        ("{.clusters[*]['name']}", "a b"),
        (
            "{.clusters[*]['cluster.server']}",
            "https://a:6443 https://b:6443",
        ),
        ("{.preferences}", "{}"),
        ("{$.kind}", "Config"),
        ("{@.kind}", "Config"),
        ("{ .kind }", "Config"),
        ("{.current-context}", "ca"),
        ("{.clusters[*].cluster.*}", "https://a:6443 https://b:6443"),
        ("{range .clusters[*]}[{.name}]{end}", "[a][b]"),
        ("{range .clusters[*]}{.name}", "ab"),
        (
            "{range .clusters[*]}{range .cluster}{.server}{end}{end}",
            "https://a:6443https://b:6443",
        ),
        (r#"{"a\"b\n"}"#, "a\"b\n"),
        ("{.clusters[*].name} and {.kind}", "a b and Config"),
        ("{.restarts[?(@>2)]}", "3 10"),
        ("{.restarts}", "[3,10,2]"),
    ];
    for (template, expected) in cases {
        assert_eq!(run(template).as_deref(), Ok(expected), "{template}");
    }
}

#[test]
fn bad_templates_fail_in_kubectls_words() {
    let cases = [
        (
            "{.clusters[",
            "error parsing jsonpath {.clusters[, unterminated array",
        ),
        ("{.kind", "error parsing jsonpath {.kind, unclosed action"),
        (
            "{.kind,.apiVersion}",
            "error parsing jsonpath {.kind,.apiVersion}, unrecognized character in action: U+002C ','",
        ),
        (
            r#"{["current-context"]}"#,
            r#"error parsing jsonpath {["current-context"]}, invalid array index "current-context""#,
        ),
        (
            "{.clusters[x].name}",
            "error parsing jsonpath {.clusters[x].name}, invalid array index x",
        ),
        (
            "{end}",
            "error parsing jsonpath {end}, not in range, nothing to end",
        ),
    ];
    for (template, expected) in cases {
        assert_eq!(run(template), Err(expected.to_string()), "{template}");
    }
    let running = [
        (
            "{.clusters[5].name}",
            "array index out of bounds: index 5, length 2",
        ),
        (
            "{.clusters[0:5].name}",
            "array index out of bounds: index 4, length 2",
        ),
        (
            "{.clusters[-3].name}",
            "array index out of bounds: index -1, length 2",
        ),
        ("{.clusters[::-1].name}", "step must be > 0"),
        ("{.clusters[*].name[0]}", "string is not array or slice"),
        (
            r#"{.contexts[?(@.name>1)].name}"#,
            "incompatible types for comparison",
        ),
        (
            r#"{.clusters[?(@.name==a)].name}"#,
            "unrecognized identifier a",
        ),
    ];
    for (template, why) in running {
        assert_eq!(
            run(template),
            Err(format!(
                "error executing jsonpath {template:?}: Error executing template: {why}"
            )),
            "{template}"
        );
    }
}

#[test]
fn relaxed_paths_are_read_as_kubectl_reads_sort_by_and_columns() {
    for text in ["kind", ".kind", "{kind}", "{.kind}"] {
        let t = Template::relaxed(text).unwrap();
        assert_eq!(t.source(), "{.kind}");
        assert_eq!(t.render(&config()).unwrap(), "Config");
    }
    assert!(Template::relaxed("{.a}{.b}").is_err());
    assert!(Template::relaxed("").is_err());
}
