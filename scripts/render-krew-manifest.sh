#!/usr/bin/env bash
# Renders the krew manifest (plugins/initctl.yaml in krew-index) from the .krew.yaml template the
# same way krew-release-bot does: {{ .TagName }} becomes the tag, and each
#   {{addURIAndSha "URL" .TagName | indent N }}
# becomes `uri: URL` and `sha256: <sha of that asset>`, taken from DIST/<asset>.sha256 as written
# by scripts/package.sh. The release workflow uses it for the manifest attached to every release
# (the one to submit by hand for the first krew-index PR); the test suite uses it for the locally
# built archive; krew/initctl.yaml is its output for the current version.
#
# Usage: scripts/render-krew-manifest.sh [--tag vX.Y.Z] [--dist DIR] [--allow-missing]
#   --tag            default: v + the Cargo.toml version
#   --dist           where the archives' .sha256 files are (default: dist/)
#   --allow-missing  an asset without a .sha256 gets the placeholder sha256 "0000…0000" instead
#                    of failing (for krew/initctl.yaml before the release exists). It is quoted:
#                    unquoted, YAML reads 64 zeros as the number 0, which krew cannot load.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tag=""
dist="$root/dist"
allow_missing=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --tag=*) tag="${1#*=}"; shift ;;
    --dist) dist="$2"; shift 2 ;;
    --dist=*) dist="${1#*=}"; shift ;;
    --allow-missing) allow_missing=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "render-krew-manifest.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$tag" ]; then
  tag="v$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
fi

placeholder='"0000000000000000000000000000000000000000000000000000000000000000"'
echo "# krew manifest for kubectl-initctl $tag, rendered from .krew.yaml by"
echo "# scripts/render-krew-manifest.sh: edit the template, not this file."
status=0
while IFS= read -r line || [ -n "$line" ]; do
  # The template's own header comment describes the template; leave it out.
  case "$line" in '#'*) continue ;; esac
  line="${line//\{\{ .TagName \}\}/$tag}"
  if [[ "$line" =~ ^([[:space:]]*)\{\{addURIAndSha\ \"([^\"]+)\"\ \.TagName\ \|\ indent\ [0-9]+\ \}\}$ ]]; then
    indent="${BASH_REMATCH[1]}"
    uri="${BASH_REMATCH[2]}"
    asset="${uri##*/}"
    if [ -f "$dist/$asset.sha256" ]; then
      sha="$(cut -d' ' -f1 < "$dist/$asset.sha256" | tr 'A-F' 'a-f')"
    elif [ "$allow_missing" = 1 ]; then
      sha="$placeholder"
    else
      echo "render-krew-manifest.sh: missing $dist/$asset.sha256" >&2
      status=1
      sha="$placeholder"
    fi
    echo "${indent}uri: $uri"
    echo "${indent}sha256: $sha"
  else
    echo "$line"
  fi
done < "$root/.krew.yaml"
exit $status
