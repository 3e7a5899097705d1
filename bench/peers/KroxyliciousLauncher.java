import io.kroxylicious.proxy.KafkaProxy;
import io.kroxylicious.proxy.config.ConfigParser;
import io.kroxylicious.proxy.config.Configuration;
import io.kroxylicious.proxy.internal.config.Features;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts Kroxylicious from its runtime jar with the YAML config named by the only argument, as
 * its own application does, and prints "kroxylicious started" once it accepts connections.
 */
public final class KroxyliciousLauncher {
  public static void main(String[] args) throws Exception {
    ConfigParser parser = new ConfigParser();
    Configuration config = parser.parseConfiguration(Files.readString(Path.of(args[0])));
    try (KafkaProxy proxy = new KafkaProxy(parser, config, Features.defaultFeatures())) {
      proxy.startup();
      System.out.println("kroxylicious started");
      System.out.flush();
      proxy.block();
    }
  }
}
