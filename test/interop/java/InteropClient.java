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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.AuthenticationException;
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
    Properties props = args.clientProps();
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    props.put("group.id", group);
    props.put("auto.offset.reset", "earliest");
    props.put("enable.auto.commit", "false");

    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
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

  private static List<String> addresses(Collection<Node> nodes) {
    return nodes.stream().map(InteropClient::address).sorted().toList();
  }

  private static String address(Node node) {
    return node.host() + ":" + node.port();
  }

  /** A typo must fail, not silently run with a default (say, without a transaction). */
  private static final Set<String> KNOWN_OPTIONS = Set.of("acks", "idempotent", "transactional-id", "timeout-ms", "group", "rate", "partition-limit");

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
      if (positionals.size() < 2) throw new IllegalArgumentException("usage: produce|produce-for|produce-each|consume|describe|describe-topics <bootstrap> ...");
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
      if (v instanceof Number) return v.toString();
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
