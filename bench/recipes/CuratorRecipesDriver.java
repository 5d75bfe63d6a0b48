// Curator 5.4's side of the recipes benchmark (zkcpp_recipes_bench): the same flags, workloads
// and RESULT line as zkcpp_recipes_driver_main.cc (see its header), with
//   lock:    one CuratorFramework (session) per contender, one InterProcessMutex each,
//            acquire(30 s) → release() in a loop;
//   handoff: LeaderLatch on two sessions taking turns; the leader's latch.close() (graceful: its
//            node is deleted) → the follower's LeaderLatchListener.isLeader().
// The warm-up phase (warmup_seconds / warmup_handoffs) runs the same code unmeasured in the same
// JVM so that the JIT has compiled the paths measured afterwards.
//
// Compiled by CMake (javac) against Debian's jars; run as
//   java -cp <classes>:<jars> CuratorRecipesDriver --hosts=H --path=/p --workload=lock ...

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorRecipesDriver {
  private String hosts = "", path = "", workload = "";
  private int contenders = 1, handoffs = 50, warmupHandoffs = 10;
  private double seconds = 2, warmupSeconds = 1;

  private static long now() { return System.nanoTime(); }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  // Nearest rank, as driver_common.cc's Quantile.
  private static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) return 0;
    int rank = (int) Math.ceil(q * sorted.length);
    rank = Math.max(1, Math.min(rank, sorted.length));
    return sorted[rank - 1];
  }

  private static void printResult(long count, long errors, double secs, double[] latNs, long cpuNs) {
    Arrays.sort(latNs);
    double n = Math.max(1, count);
    System.out.printf(java.util.Locale.ROOT,
        "RESULT count=%d errors=%d seconds=%.6f rate=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f "
            + "cpu_us_per_op=%.1f%n",
        count, errors, secs, secs > 0 ? count / secs : 0.0, quantile(latNs, 0.5) / 1e3,
        quantile(latNs, 0.99) / 1e3, latNs.length == 0 ? 0.0 : latNs[latNs.length - 1] / 1e3,
        cpuNs / 1e3 / n);
    System.out.flush();
  }

  private CuratorFramework connect() throws Exception {
    CuratorFramework client = CuratorFrameworkFactory.newClient(
        hosts, 10000, 15000, new ExponentialBackoffRetry(100, 3));
    client.start();
    if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("connect");
    return client;
  }

  private static final class Phase {
    long cycles, errors, cpuNs;
    double seconds;
    double[] waitsNs;
  }

  private static final class DoubleList {
    double[] a = new double[1 << 14];
    int n;
    void add(double v) {
      if (n == a.length) a = Arrays.copyOf(a, n * 2);
      a[n++] = v;
    }
  }

  private Phase lockPhase(InterProcessMutex[] mutexes, double secs) throws Exception {
    final int n = mutexes.length;
    final CountDownLatch go = new CountDownLatch(1);
    final long[] cycles = new long[n], errors = new long[n], finished = new long[n];
    final DoubleList[] waits = new DoubleList[n];
    final AtomicLong deadline = new AtomicLong();
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; ++i) {
      final int k = i;
      waits[k] = new DoubleList();
      threads[k] = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        final long end = deadline.get();
        while (now() < end) {
          long a = now();
          boolean got;
          try {
            got = mutexes[k].acquire(30, TimeUnit.SECONDS);
          } catch (Exception e) {
            System.err.println("acquire: " + e);
            got = false;
          }
          long b = now();
          if (!got) {
            ++errors[k];
            continue;
          }
          waits[k].add(b - a);
          try {
            mutexes[k].release();
            ++cycles[k];
          } catch (Exception e) {
            System.err.println("release: " + e);
            ++errors[k];
          }
        }
        finished[k] = now();
      });
      threads[k].start();
    }
    long cpu0 = cpuNanos();
    long t0 = now();
    deadline.set(t0 + (long) (secs * 1e9));
    go.countDown();
    for (Thread t : threads) t.join();
    long cpu1 = cpuNanos();
    Phase p = new Phase();
    long last = t0;
    int total = 0;
    for (int i = 0; i < n; ++i) {
      p.cycles += cycles[i];
      p.errors += errors[i];
      last = Math.max(last, finished[i]);
      total += waits[i].n;
    }
    p.waitsNs = new double[total];
    int at = 0;
    for (int i = 0; i < n; ++i) {
      System.arraycopy(waits[i].a, 0, p.waitsNs, at, waits[i].n);
      at += waits[i].n;
    }
    p.seconds = (last - t0) / 1e9;
    p.cpuNs = cpu1 - cpu0;
    return p;
  }

  private int runLock() throws Exception {
    List<CuratorFramework> clients = new ArrayList<>();
    InterProcessMutex[] mutexes = new InterProcessMutex[contenders];
    for (int i = 0; i < contenders; ++i) {
      CuratorFramework c = connect();
      clients.add(c);
      mutexes[i] = new InterProcessMutex(c, path);
    }
    long warmErrors = 0;
    if (warmupSeconds > 0) warmErrors = lockPhase(mutexes, warmupSeconds).errors;
    Phase p = lockPhase(mutexes, seconds);
    printResult(p.cycles, p.errors + warmErrors, p.seconds, p.waitsNs, p.cpuNs);
    for (CuratorFramework c : clients) c.close();
    return p.errors + warmErrors == 0 && p.cycles > 0 ? 0 : 1;
  }

  private int runHandoff() throws Exception {
    CuratorFramework[] clients = {connect(), connect()};
    LeaderLatch[] latches = new LeaderLatch[2];
    int seq = 0;
    latches[0] = new LeaderLatch(clients[0], path, "participant-" + seq++);
    latches[0].start();
    if (!latches[0].await(30, TimeUnit.SECONDS)) throw new IllegalStateException("first leader");
    int leader = 0;
    long errors = 0;
    DoubleList lat = new DoubleList();
    long cpu0 = 0;
    int total = warmupHandoffs + handoffs;
    for (int i = 0; i < total; ++i) {
      if (i == warmupHandoffs) cpu0 = cpuNanos();
      int follower = 1 - leader;
      final AtomicLong toldAt = new AtomicLong();
      final CountDownLatch told = new CountDownLatch(1);
      latches[follower] = new LeaderLatch(clients[follower], path, "participant-" + seq++);
      latches[follower].addListener(new LeaderLatchListener() {
        @Override public void isLeader() {
          long t = now();
          if (toldAt.compareAndSet(0, t)) told.countDown();
        }
        @Override public void notLeader() {}
      });
      latches[follower].start();
      for (int tries = 0;; ++tries) {
        List<String> children;
        try {
          children = clients[follower].getChildren().forPath(path);
        } catch (org.apache.zookeeper.KeeperException.NoNodeException e) {
          children = new ArrayList<>();
        }
        if (children.size() >= 2) break;
        if (tries > 10000) throw new IllegalStateException("follower never queued");
        Thread.sleep(1);
      }
      Thread.sleep(20);
      if (latches[follower].hasLeadership()) ++errors;
      long t0 = now();
      latches[leader].close();  // leaves: deletes its node
      latches[leader] = null;
      if (!told.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("follower never told");
      if (i >= warmupHandoffs) lat.add(toldAt.get() - t0);
      leader = follower;
    }
    long cpu1 = cpuNanos();
    double[] l = Arrays.copyOf(lat.a, lat.n);
    double sum = 0;
    for (double v : l) sum += v;
    printResult(l.length, errors, sum / 1e9, l, cpu1 - cpu0);
    if (latches[leader] != null) latches[leader].close();
    for (CuratorFramework c : clients) c.close();
    return errors == 0 ? 0 : 1;
  }

  private boolean parse(String[] argv) {
    for (String arg : argv) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) return false;
      String key = arg.substring(2, eq), value = arg.substring(eq + 1);
      switch (key) {
        case "hosts": hosts = value; break;
        case "path": path = value; break;
        case "workload": workload = value; break;
        case "contenders": contenders = Integer.parseInt(value); break;
        case "seconds": seconds = Double.parseDouble(value); break;
        case "warmup_seconds": warmupSeconds = Double.parseDouble(value); break;
        case "handoffs": handoffs = Integer.parseInt(value); break;
        case "warmup_handoffs": warmupHandoffs = Integer.parseInt(value); break;
        default: return false;
      }
    }
    return !hosts.isEmpty() && !path.isEmpty()
        && (workload.equals("lock") || workload.equals("handoff"));
  }

  public static void main(String[] argv) throws Exception {
    CuratorRecipesDriver d = new CuratorRecipesDriver();
    if (!d.parse(argv)) {
      System.err.println("usage: CuratorRecipesDriver --hosts=H --path=/p --workload=lock|handoff "
          + "[--contenders=N --seconds=S --warmup_seconds=W] [--handoffs=N --warmup_handoffs=N]");
      System.exit(2);
    }
    final double budget = d.workload.equals("lock") ? d.seconds + d.warmupSeconds + 120
                                                    : (d.handoffs + d.warmupHandoffs) * 2.0 + 120;
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep((long) (budget * 1000));
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("curator recipes driver: watchdog expired");
      Runtime.getRuntime().halt(3);
    });
    watchdog.setDaemon(true);
    watchdog.start();
    int rc = d.workload.equals("lock") ? d.runLock() : d.runHandoff();
    System.out.flush();
    // Curator's and ZooKeeper's non-daemon threads must not keep the process alive.
    Runtime.getRuntime().halt(rc);
  }
}
