#!/usr/bin/env bash
# Regenerates docs/man/*.1 from the clap definition (the hidden `__man` subcommand renders them
# with clap_mangen). Run it after changing any command, flag or help text; the test
# man_pages_are_generated_from_the_cli (tests/it/completion.rs) fails until you do.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
rm -f docs/man/*.1
cargo run --locked --quiet --bin kubectl-initctl -- __man docs/man
ls docs/man
