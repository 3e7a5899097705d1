#!/usr/bin/env bash
# Installs the non-JS Kafka clients that the interop tests drive (see test/interop/) and helm for
# the chart tests, all from package registries. Idempotent: a repeat run only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "interop: [1/5] java: kafka-clients from the resolved Kafka jars"
npx tsx scripts/interop/check-java.ts
echo "interop: [2/5] java: aws-msk-iam-auth, the AWS SDK, Kafka Streams, Connect file connectors, MirrorMaker 2"
bash scripts/interop/setup-java-libs.sh
echo "interop: [3/5] python: confluent-kafka venv"
bash scripts/interop/setup-python.sh
echo "interop: [4/5] go: franz-go client"
bash scripts/interop/setup-go.sh
echo "tools: [5/5] helm, for the Helm chart tests"
bash scripts/tools/setup-helm.sh
