import java.io.FileInputStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A consumer of many partitions that then sits idle, as most consumers of a large topic do.
 * Args: bootstrap topic group partitions idleSeconds clientPropertiesFile.
 * Reads until it has a record from every partition, prints "idle-start", polls for idleSeconds,
 * prints "idle-end", then one JSON line with what its fetching cost over the idle window:
 * fetch requests, bytes sent and bytes received (its own metrics, all connections).
 */
public final class IdleConsumer {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1], group = args[2];
    int partitions = Integer.parseInt(args[3]);
    long idleMs = Long.parseLong(args[4]) * 1000;
    Properties props = new Properties();
    try (FileInputStream in = new FileInputStream(args[5])) {
      props.load(in);
    }
    props.put("bootstrap.servers", bootstrap);
    props.put("group.id", group);
    props.put("auto.offset.reset", "earliest");
    // Committing every partition every 5 s would outweigh the fetches measured.
    props.put("enable.auto.commit", "false");
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic));
      Set<Integer> seen = new HashSet<>();
      long deadline = System.currentTimeMillis() + 180_000;
      while (seen.size() < partitions) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("read " + seen.size() + " of " + partitions + " partitions in 180 s");
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) seen.add(r.partition());
      }
      double[] start = totals(consumer.metrics());
      System.out.println("idle-start");
      System.out.flush();
      long end = System.currentTimeMillis() + idleMs;
      long extra = 0;
      while (System.currentTimeMillis() < end) extra += consumer.poll(Duration.ofMillis(Math.max(1, end - System.currentTimeMillis()))).count();
      double[] stop = totals(consumer.metrics());
      System.out.println("idle-end");
      System.out.printf(
          "{\"fetches\":%.0f,\"bytesSent\":%.0f,\"bytesReceived\":%.0f,\"seconds\":%d,\"recordsWhileIdle\":%d}%n",
          stop[0] - start[0], stop[1] - start[1], stop[2] - start[2], idleMs / 1000, extra);
    }
  }

  /** fetch-total, outgoing-byte-total and incoming-byte-total of the whole consumer. */
  private static double[] totals(Map<MetricName, ? extends Metric> metrics) {
    double[] out = new double[3];
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
      MetricName n = e.getKey();
      int slot = -1;
      if (n.group().equals("consumer-fetch-manager-metrics") && n.name().equals("fetch-total") && n.tags().size() == 1) slot = 0;
      if (n.group().equals("consumer-metrics") && n.name().equals("outgoing-byte-total")) slot = 1;
      if (n.group().equals("consumer-metrics") && n.name().equals("incoming-byte-total")) slot = 2;
      if (slot >= 0) out[slot] += ((Number) e.getValue().metricValue()).doubleValue();
    }
    return out;
  }
}
