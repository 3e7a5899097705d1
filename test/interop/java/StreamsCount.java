import java.io.OutputStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.log4j.ConsoleAppender;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.apache.log4j.PatternLayout;

/**
 * A Kafka Streams application with exactly_once_v2, run as a single source file: counts the
 * input records by value. Grouping by the value re-keys the stream, so the records go through
 * the repartition topic <application.id>-by-value-repartition; the counts live in a store backed
 * by the changelog topic <application.id>-counts-changelog. Each count update goes to the output
 * topic as value -> count (strings), with no cache, so a key's updates are exactly 1, 2, ..., n.
 *
 *   <bootstrap> <application.id> <input topic> <output topic> [--prop key=value]...
 *
 * Prints {"state":"RUNNING"} once processing and runs until its stdin closes; then closes the
 * application (committing what it has processed), prints {"state":"CLOSED"} and exits 0. On a
 * fatal error prints {"error","type"} and exits 1.
 */
public class StreamsCount {
  public static void main(String[] argv) throws Exception {
    quietLogging();
    if (argv.length < 4) throw new IllegalArgumentException("usage: <bootstrap> <application.id> <input> <output> [--prop k=v]...");
    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, argv[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, argv[1]);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("streams-count-").toString());
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    // Short commits, and repartition purges (DeleteRecords) that happen within a test's run.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, 500);
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    for (int i = 4; i + 1 < argv.length; i += 2) {
      if (!argv[i].equals("--prop")) throw new IllegalArgumentException("unknown option " + argv[i]);
      String[] kv = argv[i + 1].split("=", 2);
      props.put(kv[0], kv[1]);
    }

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(argv[2], Consumed.with(Serdes.String(), Serdes.String()))
        .groupBy((key, value) -> value, Grouped.with("by-value", Serdes.String(), Serdes.String()))
        .count(Materialized.as("counts"))
        .toStream()
        .mapValues(String::valueOf)
        .to(argv[3], Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setUncaughtExceptionHandler(err -> {
      Throwable cause = err.getCause() != null ? err.getCause() : err;
      System.out.println(Json.object("error", String.valueOf(cause.getMessage()), "type", cause.getClass().getName()));
      System.out.flush();
      Runtime.getRuntime().halt(1);
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) System.out.println(Json.object("state", "RUNNING"));
    });
    streams.start();
    System.in.transferTo(OutputStream.nullOutputStream());
    if (!streams.close(Duration.ofSeconds(30))) throw new IllegalStateException("Streams did not close within 30 s");
    System.out.println(Json.object("state", "CLOSED"));
    System.exit(0);
  }

  /** The client's INFO chatter goes nowhere; warnings and errors to stderr, for the test's failure message. */
  private static void quietLogging() {
    Logger root = Logger.getRootLogger();
    root.removeAllAppenders();
    root.addAppender(new ConsoleAppender(new PatternLayout("%p %c: %m%n"), ConsoleAppender.SYSTEM_ERR));
    root.setLevel(Level.WARN);
  }

  static final class Json {
    static String object(String... pairs) {
      StringBuilder out = new StringBuilder("{");
      for (int i = 0; i < pairs.length; i += 2) {
        if (i > 0) out.append(',');
        out.append(quote(pairs[i])).append(':').append(quote(pairs[i + 1]));
      }
      return out.append('}').toString();
    }

    private static String quote(String v) {
      StringBuilder s = new StringBuilder("\"");
      for (char c : v.toCharArray()) {
        if (c == '"' || c == '\\') s.append('\\').append(c);
        else if (c < 0x20) s.append(String.format("\\u%04x", (int) c));
        else s.append(c);
      }
      return s.append('"').toString();
    }
  }
}
