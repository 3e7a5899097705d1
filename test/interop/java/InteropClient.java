import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.log4j.ConsoleAppender;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.apache.log4j.PatternLayout;

/**
 * Kafka interop client on the official Java client (kafka-clients from the resolved Kafka libs),
 * run as a single source file. Prints one JSON line on stdout; on failure {"error","type"} and exit 1.
 *
 *   produce  <bootstrap> <topic> <count> [--acks all] [--idempotent true|false] [--transactional-id ID]
 *   produce-for <bootstrap> <topic> <seconds> [--rate 10]   rate * seconds records, paced; {"produced","errors"}
 *   produce-each <bootstrap> <topic>[,<topic>...] <count>   one producer, count records to each topic, interleaved;
 *                reports per topic instead of failing: {"topics":{"<topic>":{"delivered","failed"[,"error"]}}}
 *   consume  <bootstrap> <topic> <group> <count> [--timeout-ms 60000]
 *   describe <bootstrap> [--group NAME]
 *   describe-topics <bootstrap> <topic>[,<topic>...] [--partition-limit 2000]   Admin.describeTopics (DescribeTopicPartitions
 *                paged by the limit): {"topics":{"<topic>":{"partitions":[0,1,...]} or {"error":"<Kafka error name>"}}}
 *   traffic  <bootstrap> <topic> <group> [--rate 10] [--consumers 2] [--drain-timeout-ms 60000]
 *                streams until stdin says so, one JSON line per event (see Traffic); the last line is
 *                {"done":true,"acked","consumed"}
 *   every command: [--prop key=value]... extra client properties (SASL settings and such)
 */
public class InteropClient {
  public static void main(String[] argv) {
    quietLogging();
    try {
      Args args = Args.parse(argv);
      String result = switch (args.command()) {
        case "produce" -> produce(args);
        case "produce-for" -> produceFor(args);
        case "produce-each" -> produceEach(args);
        case "consume" -> consume(args);
        case "describe" -> describe(args);
        case "describe-topics" -> describeTopics(args);
        case "traffic" -> new Traffic(args).run();
        default -> throw new IllegalArgumentException("unknown command " + args.command());
      };
      System.out.println(result);
      System.exit(0);
    } catch (Throwable err) {
      Throwable cause = err instanceof ExecutionException && err.getCause() != null ? err.getCause() : err;
      System.out.println(Json.object("error", String.valueOf(cause.getMessage()), "type", cause.getClass().getName()));
      System.exit(1);
    }
  }

  /** Without a log4j config reload4j warns about missing appenders; clients' INFO chatter goes nowhere. */
  private static void quietLogging() {
    Logger root = Logger.getRootLogger();
    root.removeAllAppenders();
    root.addAppender(new ConsoleAppender(new PatternLayout("%p %c: %m%n"), ConsoleAppender.SYSTEM_ERR));
    root.setLevel(Level.WARN);
  }

  private static Properties producerProps(Args args) {
    Properties props = args.clientProps();
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    props.put("acks", args.option("acks", "all"));
    props.put("enable.idempotence", args.option("idempotent", "true"));
    return props;
  }

  private static String produce(Args args) throws Exception {
    String topic = args.positional(1);
    int count = Integer.parseInt(args.positional(2));
    Properties props = producerProps(args);
    String transactionalId = args.option("transactional-id", null);
    if (transactionalId != null) props.put("transactional.id", transactionalId);

    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      if (transactionalId != null) {
        producer.initTransactions();
        producer.beginTransaction();
      }
      // Explicit partitions so every partition gets written whatever the key hashes to.
      int partitions = producer.partitionsFor(topic).size();
      List<Future<RecordMetadata>> sends = new ArrayList<>();
      for (int i = 0; i < count; i++) sends.add(producer.send(new ProducerRecord<>(topic, i % partitions, "k" + i, "v" + i)));
      if (transactionalId != null) producer.commitTransaction();
      Set<Integer> written = new TreeSet<>();
      for (Future<RecordMetadata> send : sends) written.add(send.get().partition());
      return Json.object("produced", sends.size(), "partitions", written);
    }
  }

  /**
   * Sends rate * seconds records on a fixed schedule, so a reader knows how many to expect; a
   * stall is caught up rather than shortening the run. An authentication failure ends it at once.
   */
  /** A string consumer in `group` that starts from the earliest offset and commits only when told. */
  private static Properties groupConsumerProps(Args args, String group) {
    Properties props = args.clientProps();
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    props.put("group.id", group);
    props.put("auto.offset.reset", "earliest");
    props.put("enable.auto.commit", "false");
    return props;
  }

  private static String produceFor(Args args) throws Exception {
    String topic = args.positional(1);
    int seconds = Integer.parseInt(args.positional(2));
    int rate = Integer.parseInt(args.option("rate", "10"));
    AtomicInteger delivered = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<AuthenticationException> authFailure = new AtomicReference<>();
    KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(args));
    try {
      int partitions = producer.partitionsFor(topic).size();
      long start = System.nanoTime();
      for (long i = 0; i < (long) seconds * rate; i++) {
        long waitNanos = start + i * 1_000_000_000L / rate - System.nanoTime();
        if (waitNanos > 0) Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
        if (authFailure.get() != null) throw authFailure.get();
        producer.send(new ProducerRecord<>(topic, (int) (i % partitions), "k" + i, "v" + i), (metadata, err) -> {
          if (err == null) {
            delivered.incrementAndGet();
            return;
          }
          failed.incrementAndGet();
          if (err instanceof AuthenticationException auth) authFailure.compareAndSet(null, auth);
        });
      }
      producer.flush();
      if (authFailure.get() != null) throw authFailure.get();
      producer.close();
      return Json.object("produced", delivered.get(), "errors", failed.get());
    } catch (Exception err) {
      // A plain close waits for undeliverable records; after a failure only the error matters.
      producer.close(Duration.ZERO);
      throw err;
    }
  }

  /**
   * A topic the producer may not write fails its own records only: each topic reports what was
   * delivered, what failed, and its first failure as {"type","code","message"[,"unauthorizedTopics"]}
   * (code: the Kafka error name).
   */
  private static String produceEach(Args args) {
    List<String> topics = List.of(args.positional(1).split(","));
    int count = Integer.parseInt(args.positional(2));
    Map<String, AtomicInteger> delivered = new HashMap<>();
    Map<String, AtomicInteger> failed = new HashMap<>();
    Map<String, AtomicReference<Exception>> firstError = new HashMap<>();
    for (String topic : topics) {
      delivered.put(topic, new AtomicInteger());
      failed.put(topic, new AtomicInteger());
      firstError.put(topic, new AtomicReference<>());
    }
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(args))) {
      for (int i = 0; i < count; i++) {
        for (String topic : topics) {
          producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i), (metadata, err) -> {
            if (err == null) {
              delivered.get(topic).incrementAndGet();
              return;
            }
            failed.get(topic).incrementAndGet();
            firstError.get(topic).compareAndSet(null, err);
          });
        }
      }
      producer.flush();
    }
    Map<String, Object> results = new LinkedHashMap<>();
    for (String topic : topics) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("delivered", delivered.get(topic).get());
      result.put("failed", failed.get(topic).get());
      Exception err = firstError.get(topic).get();
      if (err != null) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("type", err.getClass().getName());
        error.put("code", Errors.forException(err).name());
        error.put("message", String.valueOf(err.getMessage()));
        if (err instanceof TopicAuthorizationException denied) error.put("unauthorizedTopics", new TreeSet<>(denied.unauthorizedTopics()));
        result.put("error", error);
      }
      results.put(topic, result);
    }
    return Json.object("topics", results);
  }

  private static String consume(Args args) {
    String topic = args.positional(1);
    String group = args.positional(2);
    int count = Integer.parseInt(args.positional(3));
    long deadline = System.currentTimeMillis() + Long.parseLong(args.option("timeout-ms", "60000"));
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(groupConsumerProps(args, group))) {
      consumer.subscribe(List.of(topic));
      int consumed = 0;
      Set<Integer> partitions = new TreeSet<>();
      while (consumed < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          consumed++;
          partitions.add(record.partition());
        }
      }
      consumer.commitSync();
      return Json.object("consumed", consumed, "partitions", partitions);
    }
  }

  /** Every address a client learns from the cluster: what a proxy must rewrite. */
  private static String describe(Args args) throws Exception {
    String group = args.option("group", "interop-describe");
    try (Admin admin = Admin.create(args.clientProps())) {
      DescribeClusterResult cluster = admin.describeCluster();
      List<String> nodes = addresses(cluster.nodes().get());
      String controller = address(cluster.controller().get());
      Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
      Set<String> leaders = new TreeSet<>();
      for (TopicDescription topic : admin.describeTopics(topics).allTopicNames().get().values()) {
        for (TopicPartitionInfo partition : topic.partitions()) {
          if (partition.leader() != null) leaders.add(address(partition.leader()));
        }
      }
      String coordinator = address(admin.describeConsumerGroups(List.of(group)).all().get().get(group).coordinator());
      Set<String> all = new TreeSet<>(nodes);
      all.add(controller);
      all.add(coordinator);
      all.addAll(leaders);
      return Json.object(
          "clusterId", cluster.clusterId().get(),
          "nodes", nodes,
          "controller", controller,
          "coordinator", coordinator,
          "leaders", leaders,
          "topics", topics.size(),
          "addresses", all);
    }
  }

  /** Each topic's partitions as the admin client pages them in, or the error it got for that topic. */
  private static String describeTopics(Args args) throws InterruptedException {
    List<String> topics = List.of(args.positional(1).split(","));
    DescribeTopicsOptions options = new DescribeTopicsOptions().partitionSizeLimitPerResponse(Integer.parseInt(args.option("partition-limit", "2000")));
    Map<String, Object> results = new LinkedHashMap<>();
    try (Admin admin = Admin.create(args.clientProps())) {
      Map<String, KafkaFuture<TopicDescription>> futures = admin.describeTopics(topics, options).topicNameValues();
      for (String topic : topics) {
        try {
          List<Integer> partitions = futures.get(topic).get().partitions().stream().map(TopicPartitionInfo::partition).toList();
          results.put(topic, Map.of("partitions", partitions));
        } catch (ExecutionException e) {
          results.put(topic, Map.of("error", Errors.forException(e.getCause()).name()));
        }
      }
    }
    return Json.object("topics", results);
  }

  /**
   * The `traffic` command: an idempotent acks=all producer sends "java-<seq>" at --rate per second
   * (partitions in turn), and --consumers members of one group, each its own consumer on its own
   * thread, commit synchronously after each poll's records. Every event is a line on stdout:
   *   {"acked","partition","offset","at"}  {"consumed","partition","offset","member","at"}
   *   {"assigned":[partitions],"member"}   {"error","fatal","source":"producer|consumer"}
   * Errors are only reported, except a fatal one, which ends the client (exit 1) after its line.
   * stdin "pause": stop producing and flush, then {"flushed":true,"acked"}; the group goes on.
   * stdin "stop" (or end of stdin): pause, consume until the group has every acked value (or the
   * drain timeout passes), close.
   */
  static final class Traffic {
    private final Args args;
    private final String topic;
    private final String group;
    private final int rate;
    private final Set<String> acked = ConcurrentHashMap.newKeySet();
    private final Set<String> consumed = ConcurrentHashMap.newKeySet();
    private final AtomicLong consumedRecords = new AtomicLong();
    private volatile boolean pausing;
    private volatile boolean stopping;

    Traffic(Args args) {
      this.args = args;
      topic = args.positional(1);
      group = args.positional(2);
      rate = Integer.parseInt(args.option("rate", "10"));
    }

    String run() throws Exception {
      List<Thread> members = new ArrayList<>();
      for (int i = 0; i < Integer.parseInt(args.option("consumers", "2")); i++) {
        int member = i;
        members.add(start("consumer", () -> consume(member)));
      }
      Thread producer = start("producer", this::produce);
      BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = stdin.readLine()) != null && !line.equals("stop"); ) {
        if (line.equals("pause")) pause(producer);
        else System.err.println("traffic: unknown command " + line);
      }
      pause(producer);
      long deadline = System.currentTimeMillis() + Long.parseLong(args.option("drain-timeout-ms", "60000"));
      while (!consumed.containsAll(acked) && System.currentTimeMillis() < deadline) Thread.sleep(50);
      stopping = true;
      for (Thread member : members) member.join();
      return Json.object("done", true, "acked", acked.size(), "consumed", consumedRecords.get());
    }

    private void pause(Thread producer) throws InterruptedException {
      if (pausing) return;
      pausing = true;
      producer.join();
      emit("flushed", true, "acked", acked.size());
    }

    /** On a fixed schedule, so a stall is caught up rather than thinning the stream. */
    private void produce() throws InterruptedException {
      Properties props = producerProps(args);
      props.put("client.id", "interop-java-producer");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        int partitions = producer.partitionsFor(topic).size();
        long start = System.nanoTime();
        for (long i = 0; !pausing; i++) {
          long waitNanos = start + i * 1_000_000_000L / rate - System.nanoTime();
          if (waitNanos > 0) Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
          String value = "java-" + i;
          try {
            producer.send(new ProducerRecord<>(topic, (int) (i % partitions), null, value), (metadata, err) -> {
              if (err != null) {
                report(err, "producer");
                return;
              }
              acked.add(value);
              emit("acked", value, "partition", metadata.partition(), "offset", metadata.offset(), "at", System.currentTimeMillis());
            });
          } catch (KafkaException err) {
            report(err, "producer");
          }
        }
        producer.flush();
      }
    }

    private void consume(int member) {
      Properties props = groupConsumerProps(args, group);
      props.put("client.id", "interop-java-consumer-" + member);
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
        consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

          @Override
          public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            emit("assigned", partitions.stream().map(TopicPartition::partition).sorted().toList(), "member", member);
          }
        });
        while (!stopping) {
          try {
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
            for (ConsumerRecord<String, String> record : records) {
              consumed.add(record.value());
              consumedRecords.incrementAndGet();
              emit("consumed", record.value(), "partition", record.partition(), "offset", record.offset(), "member", member, "at", System.currentTimeMillis());
            }
            if (!records.isEmpty()) consumer.commitSync();
          } catch (KafkaException err) {
            report(err, "consumer");
          }
        }
      }
    }

    /**
     * Fatal: what the client does not recover from by itself. A CommitFailedException is one: the
     * group moved the partitions on, and their new owner will consume those records again.
     */
    private static void report(Exception err, String source) {
      boolean fatal = !(err instanceof RetriableException || err instanceof RebalanceInProgressException);
      emit("error", err.getClass().getName() + ": " + err.getMessage(), "fatal", fatal, "source", source);
      if (fatal) Runtime.getRuntime().halt(1);
    }

    /** A thread that dies of anything unexpected ends the client as a fatal error. */
    private static Thread start(String source, ThrowingRunnable body) {
      Thread thread = new Thread(() -> {
        try {
          body.run();
        } catch (Exception err) {
          emit("error", err.getClass().getName() + ": " + err.getMessage(), "fatal", true, "source", source);
          Runtime.getRuntime().halt(1);
        }
      });
      thread.start();
      return thread;
    }

    /** System.out flushes at each line and takes a lock per line, so threads' lines never mix. */
    private static void emit(Object... pairs) {
      System.out.println(Json.object(pairs));
    }

    interface ThrowingRunnable {
      void run() throws Exception;
    }
  }

  private static List<String> addresses(Collection<Node> nodes) {
    return nodes.stream().map(InteropClient::address).sorted().toList();
  }

  private static String address(Node node) {
    return node.host() + ":" + node.port();
  }

  /** A typo must fail, not silently run with a default (say, without a transaction). */
  private static final Set<String> KNOWN_OPTIONS = Set.of("acks", "idempotent", "transactional-id", "timeout-ms", "group", "rate", "partition-limit", "consumers", "drain-timeout-ms");

  /** Positional arguments, then --name value options; --prop may repeat. */
  record Args(List<String> positionals, Map<String, String> options, Properties props) {
    static Args parse(String[] argv) {
      List<String> positionals = new ArrayList<>();
      Map<String, String> options = new HashMap<>();
      Properties props = new Properties();
      for (int i = 0; i < argv.length; i++) {
        if (!argv[i].startsWith("--")) {
          positionals.add(argv[i]);
          continue;
        }
        if (i + 1 >= argv.length) throw new IllegalArgumentException(argv[i] + " needs a value");
        String name = argv[i].substring(2);
        String value = argv[++i];
        if (!name.equals("prop")) {
          if (!KNOWN_OPTIONS.contains(name)) throw new IllegalArgumentException("unknown option --" + name);
          options.put(name, value);
          continue;
        }
        int eq = value.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException("--prop needs key=value, got " + value);
        props.put(value.substring(0, eq), value.substring(eq + 1));
      }
      if (positionals.size() < 2) throw new IllegalArgumentException("usage: produce|produce-for|produce-each|consume|describe|describe-topics|traffic <bootstrap> ...");
      return new Args(positionals, options, props);
    }

    String command() {
      return positionals.get(0);
    }

    /** Position 0 is the bootstrap address (after the command). */
    String positional(int index) {
      if (index + 1 >= positionals.size()) throw new IllegalArgumentException("missing argument " + (index + 1) + " for " + command());
      return positionals.get(index + 1);
    }

    String option(String name, String fallback) {
      return options.getOrDefault(name, fallback);
    }

    /** A fresh copy each time: the caller adds its own settings. */
    Properties clientProps() {
      Properties copy = new Properties();
      copy.put("bootstrap.servers", positional(0));
      copy.put("client.id", "interop-java");
      copy.putAll(props);
      return copy;
    }
  }

  /** Just enough JSON for objects of strings, numbers, string/number collections and nested maps. */
  static final class Json {
    static String object(Object... pairs) {
      StringBuilder out = new StringBuilder("{");
      for (int i = 0; i < pairs.length; i += 2) {
        if (i > 0) out.append(',');
        out.append(value(pairs[i])).append(':').append(value(pairs[i + 1]));
      }
      return out.append('}').toString();
    }

    private static String value(Object v) {
      if (v == null) return "null";
      if (v instanceof Number || v instanceof Boolean) return v.toString();
      if (v instanceof Collection<?> items) return "[" + String.join(",", items.stream().map(Json::value).toList()) + "]";
      if (v instanceof Map<?, ?> entries) {
        return "{" + String.join(",", entries.entrySet().stream().map(e -> value(e.getKey()) + ":" + value(e.getValue())).toList()) + "}";
      }
      StringBuilder s = new StringBuilder("\"");
      for (char c : v.toString().toCharArray()) {
        if (c == '"' || c == '\\') s.append('\\').append(c);
        else if (c < 0x20) s.append(String.format("\\u%04x", (int) c));
        else s.append(c);
      }
      return s.append('"').toString();
    }
  }
}
