#!/usr/bin/env bash
# Runs a packaged release binary on the machine it was built for, as the release workflow does for
# every target before anything is published:
#   - the archive unpacks to the flat layout krew installs (binary, LICENSE, completion helper);
#   - on Linux the binary is fully static: no NEEDED shared libraries and no program interpreter
#     (readelf). `file` is not asked: it says "static-pie linked" for x86_64 musl Rust binaries and
#     "statically linked" for others, and what matters is what the loader would need;
#   - `--version` prints the Cargo.toml version (and the commit), and `status -f examples/cluster-dump.yaml` (the
#     README's quick start, clock pinned to the example's) prints the bundled pods.
#
# Usage: scripts/smoke-test.sh ARCHIVE [--no-static-check]
#   --no-static-check  skip the readelf check (for a local glibc build, which is dynamic)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
archive=""
static_check=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-static-check) static_check=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "smoke-test.sh: unknown argument: $1" >&2; exit 2 ;;
    *) archive="$1"; shift ;;
  esac
done
[ -f "$archive" ] || { echo "smoke-test.sh: no archive: $archive" >&2; exit 2; }

fail() { echo "smoke-test.sh: FAIL: $*" >&2; exit 1; }

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
case "$archive" in
  *.zip)
    if command -v unzip >/dev/null 2>&1; then unzip -q "$archive" -d "$dir"
    else 7z x -bd -o"$dir" "$archive" >/dev/null; fi
    exe=kubectl-initctl.exe helper=kubectl_complete-initctl.cmd ;;
  *.tar.gz)
    tar -xzf "$archive" -C "$dir"
    exe=kubectl-initctl helper=kubectl_complete-initctl ;;
  *) fail "unknown archive type: $archive" ;;
esac

# krew installs the archive root as is: exactly these three files.
listing="$(cd "$dir" && ls -A | LC_ALL=C sort | tr '\n' ' ')"
expected="$(printf '%s\n' LICENSE "$exe" "$helper" | LC_ALL=C sort | tr '\n' ' ')"
[ "$listing" = "$expected" ] || fail "archive holds '$listing', expected '$expected'"
bin="$dir/$exe"
# The size, for the record (docs/binary-size.md: the Linux target is at most 12 MB).
echo "$exe: $(wc -c <"$bin" | tr -d ' ') bytes"

case "$archive" in
  *_linux_*)
    if [ "$static_check" = 1 ]; then
      command -v readelf >/dev/null 2>&1 || fail "readelf (binutils) is needed for the static check"
      dynamic="$(readelf -d "$bin" 2>&1 || true)"
      if grep -q '(NEEDED)' <<<"$dynamic"; then
        fail "dynamically linked, it needs: $(grep '(NEEDED)' <<<"$dynamic" | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')"
      fi
      if readelf -l "$bin" | grep -q 'INTERP'; then
        fail "has a program interpreter: $(readelf -l "$bin" | grep -o 'Requesting program interpreter: [^]]*')"
      fi
      echo "static: no NEEDED entries, no program interpreter"
    fi
    ;;
esac

version="$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
out="$("$bin" --version)" || fail "--version exited with $?"
echo "$out"
case "$(tr -d '\r' <<<"$out")" in
  "kubectl-initctl $version"|"kubectl-initctl $version "*) ;;
  *) fail "--version printed '$out', expected 'kubectl-initctl $version (commit)'" ;;
esac

out="$(KUBECTL_INITCTL_NOW=2026-11-27T12:00:00Z NO_COLOR=1 \
  "$bin" status -f "$root/examples/cluster-dump.yaml")" || fail "status -f exited with $?"
echo "$out"
# Windows console output may end lines with CRLF.
out="$(tr -d '\r' <<<"$out")"
grep -Eq '^myapp-pod +0/1 +Init:0/2 +0/2 +init-myservice +0 +15m$' <<<"$out" \
  || fail "status -f examples/cluster-dump.yaml did not print the myapp-pod row"
[ "$(wc -l <<<"$out")" -eq 8 ] || fail "status -f printed $(wc -l <<<"$out") lines, expected 8"
echo "smoke test passed: $archive"
