#!/usr/bin/env bash
# Installs the non-JS Kafka clients that the interop tests drive (see test/interop/), all from
# package registries. Idempotent: a repeat run only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "interop: [1/4] java: kafka-clients from the resolved Kafka jars"
npx tsx scripts/interop/check-java.ts
echo "interop: [2/4] java: aws-msk-iam-auth, the AWS SDK, Kafka Streams, Connect file connectors, MirrorMaker 2"
bash scripts/interop/setup-java-libs.sh
echo "interop: [3/4] python: confluent-kafka venv"
bash scripts/interop/setup-python.sh
echo "interop: [4/4] go: franz-go client"
bash scripts/interop/setup-go.sh
