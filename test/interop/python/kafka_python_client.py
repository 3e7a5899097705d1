"""Kafka interop client on kafka-python (pure Python). Prints one JSON line on stdout; on failure
{"error","type"} and exit 1. Records are k<i>=v<i>.

  produce <bootstrap> <topic> <count>            {"produced","partitions"}
  consume <bootstrap> <topic> <group> <count> [--timeout-ms 60000]
          {"consumed","partitions","records"}: every record read as "key=value", sorted
  every command: [--api-version auto|0.10.2]: auto asks the broker (ApiVersions); 0.10.2 pins
                 kafka-python's table for that release: no ApiVersions, old Metadata versions,
                 SaslHandshake v0 followed by bare SASL frames
                 [--sasl none|oauthbearer]: OAUTHBEARER with the token in KAFKA_OAUTH_TOKEN_FILE
                 (read again on every authentication) or KAFKA_OAUTH_TOKEN
"""

import argparse
import json
import os
import sys
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.sasl.oauth import AbstractTokenProvider

# Waits for metadata and deliveries; well under the test's own limit.
REQUEST_TIMEOUT_S = 30


def main() -> int:
    try:
        args = parse_args(sys.argv[1:])
        result = {"produce": produce, "consume": consume}[args.command](args)
        print(json.dumps(result), flush=True)
        return 0
    except Exception as err:  # noqa: BLE001 - every failure must become the JSON error line
        print(json.dumps({"error": str(err), "type": type(err).__name__}), flush=True)
        return 1


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors raise, so they too come out as the JSON error line."""

    def error(self, message):
        raise ValueError(message)


def parse_args(argv):
    parser = ArgumentParser(prog="kafka_python_client.py")
    parser.add_argument("command", choices=["produce", "consume"])
    parser.add_argument("bootstrap")
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--timeout-ms", type=int, default=60000)
    parser.add_argument("--api-version", default="auto", choices=["auto", "0.10.2"])
    parser.add_argument("--sasl", default="none", choices=["none", "oauthbearer"])
    args = parser.parse_intermixed_args(argv)
    needed = {"produce": 2, "consume": 3}[args.command]
    if len(args.rest) != needed:
        raise ValueError(f"{args.command} takes {needed} arguments after <bootstrap>, got {args.rest}")
    return args


class EnvTokenProvider(AbstractTokenProvider):
    def token(self):
        path = os.environ.get("KAFKA_OAUTH_TOKEN_FILE")
        if path:
            with open(path, encoding="utf-8") as f:
                return f.read().strip()
        token = os.environ.get("KAFKA_OAUTH_TOKEN")
        if not token:
            raise ValueError("--sasl oauthbearer needs KAFKA_OAUTH_TOKEN or KAFKA_OAUTH_TOKEN_FILE")
        return token


def client_config(args):
    config = {
        "bootstrap_servers": args.bootstrap.split(","),
        "client_id": "interop-kafka-python",
        "request_timeout_ms": REQUEST_TIMEOUT_S * 1000,
    }
    if args.api_version != "auto":
        config["api_version"] = tuple(int(part) for part in args.api_version.split("."))
    if args.sasl == "oauthbearer":
        provider = EnvTokenProvider()
        provider.token()  # a missing token fails here, not on every reconnect
        config.update({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER", "sasl_oauth_token_provider": provider})
    return config


def produce(args):
    topic, count = args.rest[0], int(args.rest[1])
    producer = KafkaProducer(acks="all", max_block_ms=REQUEST_TIMEOUT_S * 1000, **client_config(args))
    try:
        # partitions_for raises the topic's error (TopicAuthorizationFailedError) from its metadata.
        partitions = sorted(producer.partitions_for(topic))
        # Explicit partitions so every partition gets written whatever the key hashes to.
        futures = [
            producer.send(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=partitions[i % len(partitions)])
            for i in range(count)
        ]
        written = {future.get(timeout=REQUEST_TIMEOUT_S).partition for future in futures}
        return {"produced": count, "partitions": sorted(written)}
    finally:
        producer.close(timeout=5)


def consume(args):
    topic, group, count = args.rest[0], args.rest[1], int(args.rest[2])
    consumer = KafkaConsumer(group_id=group, auto_offset_reset="earliest", enable_auto_commit=False, **client_config(args))
    try:
        consumer.subscribe([topic])
        records, partitions = [], set()
        deadline = time.monotonic() + args.timeout_ms / 1000
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                for record in batch:
                    records.append(f"{record.key.decode()}={record.value.decode()}")
                    partitions.add(record.partition)
        if records:
            consumer.commit()
        return {"consumed": len(records), "partitions": sorted(partitions), "records": sorted(records)}
    finally:
        consumer.close()


if __name__ == "__main__":
    sys.exit(main())
