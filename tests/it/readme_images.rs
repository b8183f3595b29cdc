//! The pictures in the README (docs/img/*.svg) are the real binary's coloured output on the bundled
//! example, rendered to SVG by anstyle-svg with the clock pinned (harness::NOW, the example's
//! clock), so they cannot go stale: this test renders them again and fails when a committed
//! picture differs. After a change to the output, regenerate them with
//!
//!   INITCTL_UPDATE_IMAGES=1 cargo test --locked readme_images
//!
//! and commit docs/img/.

use std::path::PathBuf;

use crate::harness;

/// The environment variable that makes the test write the pictures instead of comparing them.
const UPDATE: &str = "INITCTL_UPDATE_IMAGES";

/// One picture: its file under docs/img/ and the command it shows (run with `-f` on the example).
struct Picture {
    file: &'static str,
    args: &'static [&'static str],
}

const PICTURES: &[Picture] = &[
    Picture {
        file: "status-wide.svg",
        args: &["status", "-o", "wide"],
    },
    Picture {
        file: "explain.svg",
        args: &["explain", "myapp-pod"],
    },
    // The `timeline` command (not written yet) gets its picture here:
    // Picture { file: "timeline.svg", args: &["timeline", "billing-worker-7b9d6c8f5-4hx2m"] },
];

const EXAMPLE: &str = "examples/cluster-dump.yaml";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The terminal session the picture shows: the prompt with the command as a user types it, then
/// the plugin's output with its colours.
fn session(picture: &Picture) -> String {
    let example = repo().join(EXAMPLE);
    let mut args: Vec<&str> = picture.args.to_vec();
    args.extend(["-f", example.to_str().unwrap(), "--color", "always"]);
    let run = harness::initctl(&args, None);
    let output = run.ok();
    let typed = format!("kubectl initctl {} -f {EXAMPLE}", picture.args.join(" "));
    // Bold prompt, as a terminal theme would show it.
    format!("\x1b[1m$\x1b[0m {typed}\n{output}")
}

#[test]
fn readme_images_are_the_real_output() {
    let term = anstyle_svg::Term::new();
    let update = std::env::var_os(UPDATE).is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for picture in PICTURES {
        let text = session(picture);
        assert!(
            text.contains('\x1b'),
            "{}: --color always gave no colour",
            picture.file
        );
        let svg = term.render_svg(&text);
        let path = repo().join("docs/img").join(picture.file);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &svg).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != svg {
            stale.push(picture.file);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/img/{stale:?} differ from the binary's output; regenerate them with\n  \
         {UPDATE}=1 cargo test --locked readme_images\nand commit docs/img/"
    );
}
