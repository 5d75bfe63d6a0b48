// What the Java drivers (JavaClientDriver, CuratorDriver) share: the protocol's command line and
// RESULT line (common/driver_common.h), the process CPU time, the timed loops and a watchdog.

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;

final class DriverSupport {
  String hosts = "", path = "", workload = "";
  long ops = 10000, warmupOps = 1000, size = 1024;
  int window = 128, contenders = 1;
  double seconds = 2, warmupSeconds = 1;

  /** Parses --key=value flags; false on an unknown or malformed one. */
  boolean parse(String[] argv) {
    for (String arg : argv) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) return false;
      String key = arg.substring(2, eq), value = arg.substring(eq + 1);
      switch (key) {
        case "hosts": hosts = value; break;
        case "path": path = value; break;
        case "workload": workload = value; break;
        case "ops": ops = Long.parseLong(value); break;
        case "warmup_ops": warmupOps = Long.parseLong(value); break;
        case "size": size = Long.parseLong(value); break;
        case "window": window = Math.max(1, Integer.parseInt(value)); break;
        case "contenders": contenders = Math.max(1, Integer.parseInt(value)); break;
        case "seconds": seconds = Double.parseDouble(value); break;
        case "warmup_seconds": warmupSeconds = Double.parseDouble(value); break;
        default: return false;
      }
    }
    return !hosts.isEmpty() && !path.isEmpty() && !workload.isEmpty();
  }

  static long now() { return System.nanoTime(); }

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** Growable list of latencies. */
  static final class Longs {
    long[] a = new long[1 << 12];
    int n;
    void add(long v) {
      if (n == a.length) a = Arrays.copyOf(a, n * 2);
      a[n++] = v;
    }
    void addAll(Longs other) {
      for (int i = 0; i < other.n; ++i) add(other.a[i]);
    }
  }

  /** One measured part. */
  static final class Measurement {
    long count, errors, wallNs, cpuNs;
    final Longs latencies = new Longs();
  }

  // Nearest rank, as driver_common.cc's Quantile.
  private static double quantile(long[] sorted, int n, double q) {
    if (n == 0) return 0;
    int rank = (int) Math.ceil(q * n);
    rank = Math.max(1, Math.min(rank, n));
    return sorted[rank - 1];
  }

  /** Prints the RESULT line; returns the exit status. */
  static int report(Measurement m, long warmupErrors) {
    long[] sorted = Arrays.copyOf(m.latencies.a, m.latencies.n);
    Arrays.sort(sorted);
    int n = sorted.length;
    double count = Math.max(1, m.count), secs = m.wallNs / 1e9;
    System.out.printf(Locale.ROOT,
        "RESULT count=%d errors=%d seconds=%.6f rate=%.1f cpu_us_per_op=%.3f user_us_per_op=0 "
            + "sys_us_per_op=0 p50_us=%.2f p99_us=%.2f max_us=%.2f%n",
        m.count, m.errors, secs, secs > 0 ? m.count / secs : 0.0, m.cpuNs / 1e3 / count,
        quantile(sorted, n, 0.5) / 1e3, quantile(sorted, n, 0.99) / 1e3,
        n == 0 ? 0.0 : sorted[n - 1] / 1e3);
    System.out.flush();
    return m.errors == 0 && warmupErrors == 0 && m.count > 0 ? 0 : 1;
  }

  /** One event: returns its latency in ns, or a negative number on failure. */
  interface Event {
    long once() throws Exception;
  }

  /** Runs `event` n times, charging the process CPU time. */
  static Measurement timeEvents(long n, Event event) throws Exception {
    Measurement m = new Measurement();
    long cpu0 = cpuNanos(), t0 = now();
    for (long i = 0; i < n; ++i) {
      long latency;
      try {
        latency = event.once();
      } catch (Exception e) {
        System.err.println("driver: " + e);
        latency = -1;
      }
      if (latency < 0) {
        ++m.errors;
      } else {
        m.latencies.add(latency);
      }
    }
    m.wallNs = now() - t0;
    m.cpuNs = cpuNanos() - cpu0;
    m.count = n;
    return m;
  }

  /** A blocking op: true on success. */
  interface Op {
    boolean run() throws Exception;
  }

  static Measurement timeOps(long n, Op op) throws Exception {
    return timeEvents(n, () -> {
      long start = now();
      return op.run() ? now() - start : -1;
    });
  }

  /** A measured part of `n` ops. */
  interface Part {
    Measurement run(long n) throws Exception;
  }

  /** Runs the warm-up (in the same JVM, so that the JIT compiles the measured paths), then the
   * measured part, and reports it. */
  int warmAndMeasure(Part part) throws Exception {
    long warmErrors = warmupOps > 0 ? part.run(warmupOps).errors : 0;
    return report(part.run(ops), warmErrors);
  }

  /** A driver's body: returns the exit status. */
  interface Body {
    int run() throws Exception;
  }

  /** The drivers' main(): parses `argv` into `d` (status 2 on error), starts the watchdog, runs
   * `body` and halts with its status (the clients' non-daemon threads must not keep the process
   * alive). */
  static void main(String driver, DriverSupport d, String[] argv, Body body) throws Exception {
    if (!d.parse(argv)) {
      System.err.println("usage: " + driver + " --hosts=H --path=/p --workload=W [...]");
      System.exit(2);
    }
    startWatchdog(600);
    int rc = body.run();
    System.out.flush();
    Runtime.getRuntime().halt(rc);
  }

  /** Halts the JVM with status 3 after `secs`. */
  static void startWatchdog(double secs) {
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep((long) (secs * 1000));
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("driver: watchdog expired");
      Runtime.getRuntime().halt(3);
    });
    watchdog.setDaemon(true);
    watchdog.start();
  }
}
