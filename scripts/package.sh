#!/usr/bin/env bash
# Builds the krew release archive for one target:
#   dist/kubectl-initctl_vX.Y.Z_<os>_<arch>.tar.gz   (.zip for Windows)
#   dist/kubectl-initctl_vX.Y.Z_<os>_<arch>.tar.gz.sha256
# holding, at the archive root (krew's default `files` copies everything from there):
#   kubectl-initctl[.exe]              the plugin (the manifest's `bin`)
#   LICENSE                            krew requires a license file in every archive
#   kubectl_complete-initctl[.cmd]     the completion helper kubectl >= 1.26 looks for on PATH
#
# Usage: scripts/package.sh [--target TRIPLE] [--profile PROFILE] [--out-dir DIR] [--binary PATH]
#   --target   a Rust target triple (default: the host's). The release workflow builds the static
#              x86_64/aarch64-unknown-linux-musl targets; a host build here is glibc-linked but
#              has the same archive layout and name (linux_amd64).
#   --profile  cargo profile (default: release, or $INITCTL_PACKAGE_PROFILE). The test suite uses
#              `dev`: a release build of kube takes minutes, and the layout is what it checks.
#   --out-dir  where the archive goes (default: dist/ in the repository).
#   --binary   package this already-built kubectl-initctl instead of running cargo (the test suite
#              passes the binary under test: a nested `cargo build` would relink, and replace,
#              target/debug/kubectl-initctl while other tests run it, because dev-dependency
#              features make a test build differ from a plain one).
# The version comes from Cargo.toml; the archive path is the last line printed.
# The archive is reproducible: every entry has the mtime SOURCE_DATE_EPOCH (default: the commit
# time of HEAD), owner 0:0 and mode 755 (LICENSE 644), in sorted order, so two runs on the same
# binary give byte-identical archives (tests/it/krew checks it). Needs python3 (or python >= 3.7).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target=""
profile="${INITCTL_PACKAGE_PROFILE:-release}"
out_dir="$root/dist"
binary=""

while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="$2"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    --profile) profile="$2"; shift 2 ;;
    --profile=*) profile="${1#*=}"; shift ;;
    --out-dir) out_dir="$2"; shift 2 ;;
    --out-dir=*) out_dir="${1#*=}"; shift ;;
    --binary) binary="$2"; shift 2 ;;
    --binary=*) binary="${1#*=}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "package.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

# The [package] version: the first `version = "…"` line of Cargo.toml.
version="$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
[ -n "$version" ] || { echo "package.sh: no version in Cargo.toml" >&2; exit 1; }

host="$(rustc -vV | sed -n 's/^host: //p')"
triple="${target:-$host}"

# Rust target triple -> krew's os/arch (Go's GOOS/GOARCH names).
case "$triple" in
  *-linux-*) os=linux ;;
  *-apple-darwin) os=darwin ;;
  *-windows-*) os=windows ;;
  *) echo "package.sh: no krew os for target $triple" >&2; exit 1 ;;
esac
case "$triple" in
  x86_64-*) arch=amd64 ;;
  aarch64-*) arch=arm64 ;;
  *) echo "package.sh: no krew arch for target $triple" >&2; exit 1 ;;
esac

exe=""
helper="kubectl_complete-initctl"
ext="tar.gz"
if [ "$os" = windows ]; then
  exe=".exe"
  helper="kubectl_complete-initctl.cmd"
  ext="zip"
fi

if [ -z "$binary" ]; then
  build_args=(build --locked --profile "$profile" --bin kubectl-initctl)
  [ -n "$target" ] && build_args+=(--target "$target")
  (cd "$root" && cargo "${build_args[@]}") >&2

  # cargo's output directory: dev builds land in debug/, every other profile in its own name.
  profile_dir="$profile"
  [ "$profile" = dev ] && profile_dir=debug
  target_dir="${CARGO_TARGET_DIR:-$root/target}"
  if [ -n "$target" ]; then
    binary="$target_dir/$target/$profile_dir/kubectl-initctl$exe"
  else
    binary="$target_dir/$profile_dir/kubectl-initctl$exe"
  fi
fi
[ -f "$binary" ] || { echo "package.sh: binary not found at $binary" >&2; exit 1; }

name="kubectl-initctl_v${version}_${os}_${arch}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
archive="$out_dir/$name.$ext"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/kubectl-initctl$exe"
cp "$root/LICENSE" "$stage/LICENSE"
cp "$root/scripts/$helper" "$stage/$helper"

rm -f "$archive" "$archive.sha256"
# Reproducible archives: packaging the same binary twice gives the same bytes, on any machine with
# the same zlib. Every entry gets the same mtime (SOURCE_DATE_EPOCH if set, else the commit time of
# HEAD), owner and group 0 with no names, a fixed mode, and the entries are written in sorted
# order; the gzip header carries no file name and that same time. tar and zip differ across the
# release runners (GNU tar, bsdtar, 7-Zip) in exactly these points, so Python's tarfile/zipfile
# write both formats everywhere (python3 is on every GitHub runner; `python` on Windows).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git -C "$root" log -1 --format=%ct 2>/dev/null || true)"
fi
# No git (a source tarball): 1980-01-01, the earliest time a zip entry can hold.
epoch="${SOURCE_DATE_EPOCH:-315532800}"
python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 7))' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
[ -n "$python" ] || { echo "package.sh: python3 is needed to write the archive" >&2; exit 1; }
# Entries are named without a leading ./ so that krew's `from: "*"` and `bin` match them.
"$python" - "$archive" "$stage" "$epoch" "kubectl-initctl$exe" LICENSE "$helper" <<'PY'
import gzip, os, sys, tarfile, time, zipfile

archive, stage, epoch, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sorted(sys.argv[4:])
epoch = max(epoch, 315532800)  # zip cannot hold a time before 1980
modes = {name: (0o644 if name == "LICENSE" else 0o755) for name in names}

if archive.endswith(".zip"):
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            info = zipfile.ZipInfo(name, time.gmtime(epoch)[:6])
            info.create_system = 3  # unix, so that the mode below is kept
            info.external_attr = (0o100000 | modes[name]) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(stage, name), "rb") as f:
                z.writestr(info, f.read(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
else:
    with open(archive, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=6) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
                for name in names:
                    path = os.path.join(stage, name)
                    info = tarfile.TarInfo(name)
                    info.size = os.path.getsize(path)
                    info.mtime = epoch
                    info.mode = modes[name]
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
PY

if command -v sha256sum >/dev/null 2>&1; then
  sum="$(sha256sum "$archive" | cut -d' ' -f1)"
else
  sum="$(shasum -a 256 "$archive" | cut -d' ' -f1)"
fi
# Lowercase hex: krew's validation accepts nothing else (^[a-f0-9]{64}$).
sum="$(printf '%s' "$sum" | tr 'A-F' 'a-f')"
printf '%s  %s\n' "$sum" "$(basename "$archive")" > "$archive.sha256"

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "archive=$archive"
    echo "sha256=$sum"
  } >> "$GITHUB_OUTPUT"
fi
echo "$archive"
