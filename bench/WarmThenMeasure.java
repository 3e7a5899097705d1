import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Runs a Kafka tool's main twice in one JVM: first with the arguments before "--", which warms
 * up the JIT so the client's start-up is not measured, then with those after it, the run that
 * counts. Prints MEASURED between the two so only the second run's summary is read.
 * Usage: WarmThenMeasure <main class> <warm-up args...> -- <measured args...>
 */
public class WarmThenMeasure {
    public static final String MEASURED = "=== measured run ===";

    public static void main(String[] args) throws Exception {
        int split = Arrays.asList(args).indexOf("--");
        if (args.length < 2 || split < 1) throw new IllegalArgumentException("usage: WarmThenMeasure <main class> <warm-up args...> -- <measured args...>");
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, split));
        System.out.println(MEASURED);
        main.invoke(null, (Object) Arrays.copyOfRange(args, split + 1, args.length));
        // A tool may leave non-daemon threads behind; the measurement is complete.
        System.exit(0);
    }
}
