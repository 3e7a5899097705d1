#!/usr/bin/env bash
# Creates .cache/interop/python-venv with test/interop/python/requirements.txt installed.
# A stamp holding the hash of the requirements and the Python version makes a repeat run a no-op.
set -euo pipefail
cd "$(dirname "$0")/../.."

requirements=test/interop/python/requirements.txt
venv=.cache/interop/python-venv
stamp=$venv/requirements.sha256
hash=$( (python3 --version; cat "$requirements") | sha256sum | cut -d' ' -f1)

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "interop: python venv up to date ($venv)"
  exit 0
fi

echo "interop: installing $requirements into $venv"
rm -rf "$venv"
python3 -m venv "$venv"
# --only-binary: a missing wheel must fail here, not turn into a librdkafka build from source.
"$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=confluent-kafka -r "$requirements"
echo "$hash" > "$stamp"
