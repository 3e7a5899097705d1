#!/usr/bin/env bash
# Builds helm, for the Helm chart's tests (helm lint, helm template), from the Go module registry
# into .tools/bin/helm. A repeat run with that version already built is a no-op.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=v4.3.2
bin=.tools/bin/helm
# go install leaves helm's own version string short (v4.3): the stamp says which one was built.
stamp=.tools/helm.version

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ] && "$bin" version >/dev/null 2>&1; then
  echo "helm: $version up to date ($bin)"
  exit 0
fi

echo "helm: building helm $version from the Go module registry into $bin (the first time: several minutes on 2 cores)"
mkdir -p .tools/bin
# -buildvcs=false: nothing needs VCS stamps, and git may refuse a checkout owned by another user.
GOFLAGS=-buildvcs=false GOBIN="$PWD/.tools/bin" go install "helm.sh/helm/v4/cmd/helm@$version"
echo "$version" > "$stamp"
echo "helm: built $version ($bin)"
