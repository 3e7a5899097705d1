"""Kafka interop client on confluent-kafka (librdkafka). Prints one JSON line on stdout;
on failure {"error","type"} (and "code", the Kafka error name, for a KafkaException) and exit 1.

  produce  <bootstrap> <topic> <count> [--acks all] [--idempotent true|false] [--transactional-id ID]
  produce-for <bootstrap> <topic> <seconds> [--rate 10]   rate * seconds records, paced; {"produced","errors"}
  produce-each <bootstrap> <topic>[,<topic>...] <count>   one producer, count records to each topic, interleaved;
               reports per topic instead of failing: {"topics":{"<topic>":{"delivered","failed"[,"error"]}}}
  consume  <bootstrap> <topic> <group> <count> [--timeout-ms 60000]
  describe <bootstrap> [--group NAME] [--timeout-ms 60000]
  traffic  <bootstrap> <topic> <group> [--rate 10] [--consumers 2] [--drain-timeout-ms 60000]
           streams until stdin says so, one JSON line per event (see Traffic); the last line is
           {"done":true,"acked","consumed"}
  every command: [--prop key=value]... extra librdkafka properties (SASL settings and such)
                 [--sasl none|aws-oauth]: aws-oauth is AWS IAM over OAUTHBEARER, tokens from
                 aws-msk-iam-sasl-signer-python for the region in AWS_REGION, credentials from
                 the default AWS chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)

librdkafka retries a failed SASL authentication forever; this client stops at the first one.
"""

import argparse
import json
import os
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicCollection
from confluent_kafka.admin import AdminClient

# What brokers answer about groups until the offsets topic exists (a fresh cluster).
COORDINATOR_NOT_READY = {KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.COORDINATOR_LOAD_IN_PROGRESS}
# What list_topics() raises when its wait ran out before any broker answered.
METADATA_NOT_YET = {KafkaError._TRANSPORT, KafkaError._TIMED_OUT}
# A producer that cannot deliver keeps retrying for message.timeout.ms; stop waiting well before.
FLUSH_TIMEOUT_S = 60


def main() -> int:
    try:
        args = parse_args(sys.argv[1:])
        commands = {
            "produce": produce,
            "produce-for": produce_for,
            "produce-each": produce_each,
            "consume": consume,
            "describe": describe,
            "traffic": lambda args: Traffic(args).run(),
        }
        result = commands[args.command](args)
        print(json.dumps(result), flush=True)
        return 0
    except Exception as err:  # noqa: BLE001 - every failure must become the JSON error line
        line = {"error": str(err), "type": type(err).__name__}
        if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
            line["code"] = err.args[0].name()
        print(json.dumps(line), flush=True)
        return 1


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors raise, so they too come out as the JSON error line."""

    def error(self, message):
        raise ValueError(message)


def parse_args(argv):
    parser = ArgumentParser(prog="interop_client.py")
    parser.add_argument("command", choices=["produce", "produce-for", "produce-each", "consume", "describe", "traffic"])
    parser.add_argument("bootstrap")
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--acks", default="all")
    parser.add_argument("--idempotent", default="true", choices=["true", "false"])
    parser.add_argument("--transactional-id")
    parser.add_argument("--timeout-ms", type=int, default=60000)
    parser.add_argument("--rate", type=int, default=10)
    parser.add_argument("--group", default="interop-describe")
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--drain-timeout-ms", type=int, default=60000)
    parser.add_argument("--prop", action="append", default=[])
    parser.add_argument("--sasl", default="none", choices=["none", "aws-oauth"])
    args = parser.parse_intermixed_args(argv)
    needed = {"produce": 2, "produce-for": 2, "produce-each": 2, "consume": 3, "describe": 0, "traffic": 2}[args.command]
    if len(args.rest) != needed:
        raise ValueError(f"{args.command} takes {needed} arguments after <bootstrap>, got {args.rest}")
    return args


def client_config(args):
    config = {"bootstrap.servers": args.bootstrap, "client.id": "interop-python", "error_cb": on_error}
    for prop in args.prop:
        key, sep, value = prop.partition("=")
        if not sep or not key:
            raise ValueError(f"--prop needs key=value, got {prop}")
        config[key] = value
    if args.sasl == "aws-oauth":
        # SASL_PLAINTEXT unless a --prop asked for SASL_SSL.
        config.setdefault("security.protocol", "SASL_PLAINTEXT")
        config.update({"sasl.mechanism": "OAUTHBEARER", "oauth_cb": aws_iam_token_cb()})
    return config


def aws_iam_token_cb():
    """The oauth_cb AWS documents for MSK: a presigned kafka-cluster:Connect URL as the token."""
    # Imported here: botocore is slow to load and only this mode needs it.
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    region = os.environ.get("AWS_REGION")
    if not region:
        raise ValueError("--sasl aws-oauth needs AWS_REGION")

    def oauth_cb(_oauthbearer_config):
        token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        # librdkafka wants seconds since the epoch; the signer gives milliseconds.
        return token, expiry_ms / 1000

    return oauth_cb


def on_error(err):
    """Raised from here, the error comes out of the poll() or flush() that served it."""
    if err.code() == KafkaError._AUTHENTICATION or err.fatal():
        raise KafkaException(err)
    print(f"librdkafka: {err}", file=sys.stderr, flush=True)


def producer_config(args):
    config = client_config(args)
    config.update({"acks": args.acks, "enable.idempotence": args.idempotent})
    return config


def produce(args):
    topic, count = args.rest[0], int(args.rest[1])
    config = producer_config(args)
    if args.transactional_id:
        config["transactional.id"] = args.transactional_id
    producer = Producer(config)
    if args.transactional_id:
        producer.init_transactions()
        producer.begin_transaction()

    written, failures = set(), []

    def on_delivery(err, msg):
        if err is not None:
            failures.append(err)
        else:
            written.add(msg.partition())

    # Explicit partitions so every partition gets written whatever the key hashes to.
    partitions = partition_count(producer, topic)
    for i in range(count):
        producer.produce(topic, key=f"k{i}", value=f"v{i}", partition=i % partitions, on_delivery=on_delivery)
        producer.poll(0)
    if args.transactional_id:
        producer.commit_transaction()
    if producer.flush(FLUSH_TIMEOUT_S) > 0:
        raise TimeoutError(f"records still undelivered after {FLUSH_TIMEOUT_S} s")
    if failures:
        raise KafkaException(failures[0])
    return {"produced": count, "partitions": sorted(written)}


def produce_for(args):
    """rate * seconds records on a fixed schedule, so a reader knows how many to expect; a stall
    is caught up rather than shortening the run."""
    topic, seconds = args.rest[0], int(args.rest[1])
    producer = Producer(producer_config(args))
    counts = {"produced": 0, "errors": 0}

    def on_delivery(err, _msg):
        counts["produced" if err is None else "errors"] += 1

    partitions = partition_count(producer, topic)
    start = time.monotonic()
    for i in range(seconds * args.rate):
        due = start + i / args.rate
        # poll() returns early when it serves an event, so wait in a loop.
        while (wait := due - time.monotonic()) > 0:
            producer.poll(wait)
        producer.produce(topic, key=f"k{i}", value=f"v{i}", partition=i % partitions, on_delivery=on_delivery)
    if producer.flush(FLUSH_TIMEOUT_S) > 0:
        raise TimeoutError(f"records still undelivered after {FLUSH_TIMEOUT_S} s")
    return counts


def produce_each(args):
    """A topic the producer may not write fails its own records only: each topic reports what was
    delivered, what failed, and its first failure as {"code","message"} (code: the Kafka error name)."""
    topics, count = args.rest[0].split(","), int(args.rest[1])
    producer = Producer(producer_config(args))
    results = {topic: {"delivered": 0, "failed": 0} for topic in topics}

    def record(topic, err):
        result = results[topic]
        if err is None:
            result["delivered"] += 1
            return
        result["failed"] += 1
        result.setdefault("error", {"code": err.name(), "message": err.str()})

    def on_delivery(err, msg):
        record(msg.topic(), err)

    for i in range(count):
        for topic in topics:
            try:
                producer.produce(topic, key=f"k{i}", value=f"v{i}", on_delivery=on_delivery)
            except KafkaException as err:
                # A topic already known to be in error is refused here rather than in a delivery report.
                record(topic, err.args[0])
            producer.poll(0)
    if producer.flush(FLUSH_TIMEOUT_S) > 0:
        raise TimeoutError(f"records still undelivered after {FLUSH_TIMEOUT_S} s")
    return {"topics": results}


class Traffic:
    """An idempotent acks=all producer sends "python-<seq>" at --rate per second (partitions in
    turn), and --consumers members of one group, each its own consumer on its own thread, commit
    synchronously after each batch of records. Every event is a line on stdout:
      {"acked","partition","offset","at"}  {"consumed","partition","offset","member","at"}
      {"assigned":[partitions],"member"}   {"error","fatal","source":"producer|consumer"}
    Errors are only reported, except a fatal one, which ends the client (exit 1) after its line.
    stdin "pause": stop producing and flush, then {"flushed":true,"acked"}; the group goes on.
    stdin "stop" (or end of stdin): pause, consume until the group has every acked value (or the
    drain timeout passes), close."""

    def __init__(self, args):
        self.args = args
        self.topic, self.group = args.rest
        self.acked, self.consumed = set(), set()
        self.consumed_records = 0
        self.lock = threading.Lock()
        self.pausing, self.stopping, self.closing = threading.Event(), threading.Event(), threading.Event()

    def run(self):
        members = [self.start("consumer", self.consume, i) for i in range(self.args.consumers)]
        threading.Thread(target=self.read_commands, daemon=True).start()
        self.produce()
        self.emit({"flushed": True, "acked": len(self.acked)})
        self.stopping.wait()
        deadline = time.monotonic() + self.args.drain_timeout_ms / 1000
        while not self.drained() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.closing.set()
        for member in members:
            member.join()
        return {"done": True, "acked": len(self.acked), "consumed": self.consumed_records}

    def read_commands(self):
        for line in sys.stdin:
            if line.strip() == "stop":
                break
            if line.strip() == "pause":
                self.pausing.set()
            else:
                print(f"traffic: unknown command {line.strip()}", file=sys.stderr, flush=True)
        self.pausing.set()
        self.stopping.set()

    def drained(self):
        with self.lock:
            return self.acked <= self.consumed

    def produce(self):
        """On a fixed schedule, so a stall is caught up rather than thinning the stream."""
        config = producer_config(self.args)
        config.update({"client.id": "interop-python-producer", "error_cb": self.on_error("producer")})
        producer = Producer(config)
        partitions = partition_count(producer, self.topic)
        start = time.monotonic()
        i = 0
        while not self.pausing.is_set():
            due = start + i / self.args.rate
            # poll() returns early when it serves an event, so wait in a loop.
            while (wait := due - time.monotonic()) > 0:
                producer.poll(wait)
            value = f"python-{i}"
            producer.produce(self.topic, value=value, partition=i % partitions, on_delivery=self.on_delivery)
            i += 1
        if (left := producer.flush(FLUSH_TIMEOUT_S)) > 0:
            self.emit({"error": f"{left} records still undelivered after {FLUSH_TIMEOUT_S} s", "fatal": False, "source": "producer"})

    def on_delivery(self, err, msg):
        if err is not None:
            self.report(err, "producer")
            return
        with self.lock:
            self.acked.add(msg.value().decode())
        self.emit({"acked": msg.value().decode(), "partition": msg.partition(), "offset": msg.offset(), "at": now_ms()})

    def consume(self, member):
        config = client_config(self.args)
        config.update({
            "client.id": f"interop-python-consumer-{member}",
            "group.id": self.group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "error_cb": self.on_error("consumer"),
        })
        consumer = Consumer(config)
        try:
            consumer.subscribe([self.topic], on_assign=lambda _, partitions: self.emit({"assigned": sorted(p.partition for p in partitions), "member": member}))
            while not self.closing.is_set():
                records = 0
                for msg in consumer.consume(num_messages=500, timeout=0.2):
                    if msg.error() is not None:
                        self.report(msg.error(), "consumer")
                        continue
                    records += 1
                    value = msg.value().decode()
                    with self.lock:
                        self.consumed.add(value)
                        self.consumed_records += 1
                    self.emit({"consumed": value, "partition": msg.partition(), "offset": msg.offset(), "member": member, "at": now_ms()})
                if records:
                    try:
                        consumer.commit(asynchronous=False)
                    except KafkaException as err:
                        self.report(err.args[0], "consumer")
        finally:
            consumer.close()

    def on_error(self, source):
        return lambda err: self.report(err, source)

    def report(self, err, source):
        """librdkafka flags what it does not recover from itself as fatal."""
        self.emit({"error": str(err), "fatal": err.fatal(), "source": source})
        if err.fatal():
            os._exit(1)

    def start(self, source, target, *args):
        """A thread that dies of anything unexpected ends the client as a fatal error. Daemon
        threads, so a failing main thread ends the client too."""

        def guarded():
            try:
                target(*args)
            except Exception as err:  # noqa: BLE001 - reported, then the client ends
                self.emit({"error": f"{type(err).__name__}: {err}", "fatal": True, "source": source})
                os._exit(1)

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        return thread

    def emit(self, line):
        with self.lock:
            print(json.dumps(line), flush=True)


def now_ms():
    return int(time.time() * 1000)


def partition_count(producer, topic, timeout_s=30):
    """Short metadata waits with poll() between them, so error_cb can report a failed
    authentication instead of list_topics() blocking for the whole timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            metadata = producer.list_topics(topic, timeout=1).topics[topic]
            break
        except KafkaException as err:
            if err.args[0].code() not in METADATA_NOT_YET or time.monotonic() > deadline:
                raise
            producer.poll(0)
    if metadata.error is not None:
        raise KafkaException(metadata.error)
    return len(metadata.partitions)


def consume(args):
    topic, group, count = args.rest[0], args.rest[1], int(args.rest[2])
    config = client_config(args)
    config.update({"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer = Consumer(config)
    try:
        consumer.subscribe([topic])
        consumed, partitions = 0, set()
        deadline = time.monotonic() + args.timeout_ms / 1000
        while consumed < count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error() is not None:
                raise KafkaException(msg.error())
            consumed += 1
            partitions.add(msg.partition())
        # With nothing consumed there is nothing to commit, which librdkafka reports as an error.
        if consumed > 0:
            consumer.commit(asynchronous=False)
        return {"consumed": consumed, "partitions": sorted(partitions)}
    finally:
        consumer.close()


def describe(args):
    """Every address a client learns from the cluster: what a proxy must rewrite."""
    admin = AdminClient(client_config(args))
    cluster = admin.describe_cluster().result()
    nodes = sorted(address(node) for node in cluster.nodes)
    controller = address(cluster.controller)
    topics = list(admin.list_topics(timeout=30).topics)
    leaders = set()
    for future in admin.describe_topics(TopicCollection(topics)).values():
        leaders.update(address(p.leader) for p in future.result().partitions if p.leader is not None)
    coordinator = address(group_coordinator(admin, args.group, time.monotonic() + args.timeout_ms / 1000))
    return {
        "clusterId": cluster.cluster_id,
        "nodes": nodes,
        "controller": controller,
        "coordinator": coordinator,
        "leaders": sorted(leaders),
        "topics": len(topics),
        "addresses": sorted(set(nodes) | leaders | {controller, coordinator}),
    }


def group_coordinator(admin, group, deadline):
    """librdkafka passes COORDINATOR_NOT_READY errors on rather than retrying them."""
    while True:
        try:
            return admin.describe_consumer_groups([group])[group].result().coordinator
        except KafkaException as err:
            if err.args[0].code() not in COORDINATOR_NOT_READY or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def address(node):
    return f"{node.host}:{node.port}"


if __name__ == "__main__":
    sys.exit(main())
