//! Each distinct command line read once per thread. `explain` diagnoses thousands of pods, most
//! of them copies of a few workloads, and diagnoses them again as events and logs come in:
//! reading the same script again each time (lexing, expanding, matching tools) was 5.7% of
//! `explain -A`'s instructions at 10k pods (docs/benchmarks.md).

use std::cell::RefCell;
use std::hash::{BuildHasher, Hash, Hasher};

use k8s_openapi::api::core::v1::Container;

use super::WaitTarget;
use super::kubelet::{EnvEntry, env_entries};

/// What the reading of a container's command line depends on, and nothing else: the words the
/// kubelet runs (`command` then `args`), the `env` it expands them with (as much of each entry
/// as `kubelet::container_env` reads: `env_entries`), and the pod's namespace.
struct Inputs<'a> {
    namespace: &'a str,
    container: &'a Container,
}

impl<'a> Inputs<'a> {
    fn words(&self) -> impl Iterator<Item = &'a str> + 'a {
        let c = self.container;
        let command = c.command.iter().flatten();
        command.chain(c.args.iter().flatten()).map(String::as_str)
    }

    fn env(&self) -> impl Iterator<Item = EnvEntry<'a>> + 'a {
        env_entries(self.container)
    }

    fn hash(&self) -> u64 {
        let mut hasher = foldhash::fast::FixedState::default().build_hasher();
        self.namespace.hash(&mut hasher);
        self.words().for_each(|word| word.hash(&mut hasher));
        // (The count parts the words from the variables.)
        self.words().count().hash(&mut hasher);
        self.env().for_each(|var| var.hash(&mut hasher));
        hasher.finish()
    }
}

/// One command line read, with what it waits for.
struct Entry {
    namespace: String,
    words: Vec<String>,
    env: Vec<(String, Option<String>, Option<String>)>,
    targets: Vec<WaitTarget>,
}

impl Entry {
    fn new(inputs: &Inputs, targets: Vec<WaitTarget>) -> Entry {
        let owned = |s: Option<&str>| s.map(str::to_string);
        Entry {
            namespace: inputs.namespace.to_string(),
            words: inputs.words().map(str::to_string).collect(),
            env: inputs
                .env()
                .map(|(name, value, field)| (name.to_string(), owned(value), owned(field)))
                .collect(),
            targets,
        }
    }

    /// The same inputs, compared in full (equal hashes are not enough).
    fn is(&self, inputs: &Inputs) -> bool {
        self.namespace == inputs.namespace
            && self.words.iter().map(String::as_str).eq(inputs.words())
            && self.env.iter().map(borrowed).eq(inputs.env())
    }
}

fn borrowed((name, value, field): &(String, Option<String>, Option<String>)) -> EnvEntry<'_> {
    (name, value.as_deref(), field.as_deref())
}

/// Enough for every distinct command line of a large cluster's stuck pods; past it all are
/// forgotten and read again as they come, so memory stays bounded whatever the input.
const MOST: usize = 1024;

/// The command lines read on this thread, by hash.
#[derive(Default)]
struct Read {
    entries: foldhash::HashMap<u64, Vec<Entry>>,
    count: usize,
}

thread_local! {
    static READ: RefCell<Read> = RefCell::default();
}

/// `read()`'s answer for `container` in `namespace`, or what it answered before for the same
/// inputs on this thread.
pub(super) fn remembered(
    container: &Container,
    namespace: &str,
    read: impl FnOnce() -> Vec<WaitTarget>,
) -> Vec<WaitTarget> {
    let inputs = Inputs {
        namespace,
        container,
    };
    let hash = inputs.hash();
    let known = READ.with_borrow(|read| {
        let same = read.entries.get(&hash)?.iter().find(|e| e.is(&inputs));
        same.map(|e| e.targets.clone())
    });
    if let Some(targets) = known {
        return targets;
    }
    let targets = read();
    READ.with_borrow_mut(|read| {
        if read.count == MOST {
            *read = Read::default();
        }
        read.count += 1;
        let entry = Entry::new(&inputs, targets.clone());
        read.entries.entry(hash).or_default().push(entry);
    });
    targets
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::diagnosis::wait_for::wait_targets;

    fn container(args: &[&str], env: serde_json::Value) -> Container {
        serde_json::from_value(serde_json::json!({
            "name": "wait", "command": ["sh", "-c"], "args": args, "env": env,
        }))
        .unwrap()
    }

    fn hosts(container: &Container, namespace: &str) -> Vec<String> {
        let targets = wait_targets(container, namespace);
        targets.into_iter().map(|t| t.host).collect()
    }

    /// Whatever changes the reading's answer is part of what it is remembered by.
    #[test]
    fn each_input_that_changes_the_answer_is_remembered_apart() {
        let script = ["until nslookup $(SVC).$NS; do sleep 2; done"];
        let env = |svc: &str| serde_json::json!([{"name": "SVC", "value": svc}]);
        let a = container(&script, env("db"));
        assert_eq!(hosts(&a, "shop"), ["db.$NS"]);
        // Asked again (now remembered), the same answer.
        assert_eq!(hosts(&a, "shop"), ["db.$NS"]);
        assert_eq!(
            hosts(&container(&script, env("cache")), "shop"),
            ["cache.$NS"]
        );
        let from_field = serde_json::json!([{"name": "SVC", "value": "db"},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]);
        assert_eq!(hosts(&container(&script, from_field), "shop"), ["db.shop"]);
        let from_secret = serde_json::json!([{"name": "SVC", "value": "db"},
            {"name": "NS", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]);
        assert_eq!(hosts(&container(&script, from_secret), "shop"), ["db.$NS"]);
        // The namespace, as the pod's own service-account file gives it.
        let file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
        let own = [format!("until nslookup db.$(cat {file}); do sleep 2; done")];
        let own = container(&[own[0].as_str()], serde_json::json!([]));
        assert_eq!(hosts(&own, "shop"), ["db.shop"]);
        assert_eq!(hosts(&own, "ops"), ["db.ops"]);
    }

    /// Entries are told apart by their inputs in full, not by hash alone.
    #[test]
    fn an_entry_is_only_its_own_inputs() {
        let env = |v: &str| serde_json::json!([{"name": "SVC", "value": v}]);
        let (a, b) = (container(&["x"], env("a")), container(&["x"], env("b")));
        let (split, joined) = (
            container(&["x", "y"], env("a")),
            container(&["x y"], env("a")),
        );
        let inputs = |container, namespace| Inputs {
            namespace,
            container,
        };
        let entry = Entry::new(&inputs(&a, "shop"), Vec::new());
        assert!(entry.is(&inputs(&a, "shop")));
        for other in [
            inputs(&b, "shop"),
            inputs(&a, "ops"),
            inputs(&split, "shop"),
        ] {
            assert!(!entry.is(&other));
        }
        assert!(!Entry::new(&inputs(&split, "shop"), Vec::new()).is(&inputs(&joined, "shop")));
    }

    #[test]
    fn a_command_line_is_read_once_per_thread_and_memory_stays_bounded() {
        let reads = Cell::new(0);
        let read = || {
            reads.set(reads.get() + 1);
            Vec::new()
        };
        let c = container(&["sleep 1"], serde_json::json!([]));
        remembered(&c, "a", read);
        remembered(&c, "a", read);
        assert_eq!(reads.get(), 1);
        remembered(&c, "b", read);
        assert_eq!(reads.get(), 2);
        // Past the bound everything is forgotten, and read again when asked.
        for i in 0..MOST {
            remembered(&c, &format!("ns-{i}"), read);
        }
        assert!(READ.with_borrow(|r| r.count) <= MOST);
        remembered(&c, "a", read);
        assert_eq!(reads.get(), 2 + MOST + 1);
    }
}
