// Curator 5.4 in the side-by-side suite (workloads: common/driver_common.h):
//   lock:    one CuratorFramework (session) per contender, one InterProcessMutex each,
//            acquire(30 s) → release() in a loop, from one common start for a fixed time;
//   handoff: LeaderLatch on two sessions taking turns; the leader's latch.close() (graceful: its
//            node is deleted) → the follower's LeaderLatchListener.isLeader(). Before each
//            handoff a children watch shows the follower's node, then 20 ms pass for its own
//            watch (no API says when that is armed);
//   config:  `contenders` sessions each with a CuratorCache on the config node and a listener;
//            a writer's setData → the last listener saw the new value;
//   session: CuratorFramework start → connected;
//   discovery_lookup: a ServiceDiscovery (curator-x-discovery) on one session registers
//            `contenders` instances of service "svc" under `path` (path/svc/<id>, the layout
//            zkcpp's ServiceRegistry writes); a ServiceCache of a ServiceDiscovery on another
//            session serves the lookups (getInstances(), no round trip); latency per lookup;
//   discovery_propagation: per op, a new instance is registered (registerService); latency =
//            registerService called → the cache's ServiceCacheListener.cacheChanged() finds it
//            in getInstances() (the listener gets no delta); then it is unregistered and the
//            cache seen without it, unmeasured.
// The warm-up runs the same code unmeasured in the same JVM so that the JIT has compiled the
// measured paths.
//
// Compiled by CMake (javac) against Debian's jars; run as
//   java -cp <classes>:<jars> CuratorDriver --hosts=H --path=/p --workload=lock ...

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.ServiceCacheListener;

public final class CuratorDriver {
  private final DriverSupport d = new DriverSupport();

  private CuratorFramework connect() throws Exception {
    CuratorFramework client = CuratorFrameworkFactory.newClient(
        d.hosts, 10000, 15000, new ExponentialBackoffRetry(100, 3));
    client.start();
    if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("connect");
    return client;
  }

  private DriverSupport.Measurement lockPhase(InterProcessMutex[] mutexes, double secs)
      throws Exception {
    final int n = mutexes.length;
    final CountDownLatch go = new CountDownLatch(1);
    final long[] cycles = new long[n], errors = new long[n], finished = new long[n];
    final DriverSupport.Longs[] waits = new DriverSupport.Longs[n];
    final AtomicLong deadline = new AtomicLong();
    Thread[] threads = new Thread[n];
    for (int i = 0; i < n; ++i) {
      final int k = i;
      waits[k] = new DriverSupport.Longs();
      threads[k] = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        final long end = deadline.get();
        while (DriverSupport.now() < end) {
          long a = DriverSupport.now();
          boolean got;
          try {
            got = mutexes[k].acquire(30, TimeUnit.SECONDS);
          } catch (Exception e) {
            System.err.println("acquire: " + e);
            got = false;
          }
          long b = DriverSupport.now();
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
        finished[k] = DriverSupport.now();
      });
      threads[k].start();
    }
    long cpu0 = DriverSupport.cpuNanos();
    long t0 = DriverSupport.now();
    deadline.set(t0 + (long) (secs * 1e9));
    go.countDown();
    for (Thread t : threads) t.join();
    DriverSupport.Measurement m = new DriverSupport.Measurement();
    m.cpuNs = DriverSupport.cpuNanos() - cpu0;
    long last = t0;
    for (int i = 0; i < n; ++i) {
      m.count += cycles[i];
      m.errors += errors[i];
      last = Math.max(last, finished[i]);
      m.latencies.addAll(waits[i]);
    }
    m.wallNs = last - t0;
    return m;
  }

  private int runLock() throws Exception {
    List<CuratorFramework> clients = new ArrayList<>();
    InterProcessMutex[] mutexes = new InterProcessMutex[d.contenders];
    for (int i = 0; i < d.contenders; ++i) {
      CuratorFramework c = connect();
      clients.add(c);
      mutexes[i] = new InterProcessMutex(c, d.path);
    }
    long warmErrors = d.warmupSeconds > 0 ? lockPhase(mutexes, d.warmupSeconds).errors : 0;
    int rc = DriverSupport.report(lockPhase(mutexes, d.seconds), warmErrors);
    for (CuratorFramework c : clients) c.close();
    return rc;
  }

  /** Blocks until `path` has at least `n` children, woken by a children watch. */
  private static void awaitChildren(CuratorFramework client, String path, int n) throws Exception {
    long giveUp = DriverSupport.now() + 30_000_000_000L;
    while (DriverSupport.now() < giveUp) {
      CountDownLatch changed = new CountDownLatch(1);
      List<String> children =
          client.getChildren().usingWatcher((org.apache.zookeeper.Watcher) e -> changed.countDown())
              .forPath(path);
      if (children.size() >= n) return;
      changed.await(30, TimeUnit.SECONDS);
    }
    throw new IllegalStateException("follower never queued");
  }

  private int runHandoff() throws Exception {
    CuratorFramework[] clients = {connect(), connect()};
    clients[0].createContainers(d.path);
    LeaderLatch[] latches = new LeaderLatch[2];
    final int[] seq = {0};
    latches[0] = new LeaderLatch(clients[0], d.path, "participant-" + seq[0]++);
    latches[0].start();
    if (!latches[0].await(30, TimeUnit.SECONDS)) throw new IllegalStateException("first leader");
    final int[] leader = {0};
    int rc = d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
      int follower = 1 - leader[0];
      final AtomicLong toldAt = new AtomicLong();
      final CountDownLatch told = new CountDownLatch(1);
      latches[follower] = new LeaderLatch(clients[follower], d.path, "participant-" + seq[0]++);
      latches[follower].addListener(new LeaderLatchListener() {
        @Override public void isLeader() {
          if (toldAt.compareAndSet(0, DriverSupport.now())) told.countDown();
        }
        @Override public void notLeader() {}
      });
      latches[follower].start();
      awaitChildren(clients[follower], d.path, 2);
      Thread.sleep(20);  // the follower's own watch
      if (latches[follower].hasLeadership()) return -1;
      long t0 = DriverSupport.now();
      latches[leader[0]].close();  // leaves: deletes its node
      latches[leader[0]] = null;
      leader[0] = follower;
      if (!told.await(30, TimeUnit.SECONDS)) return -1;
      return toldAt.get() - t0;
    }));
    if (latches[leader[0]] != null) latches[leader[0]].close();
    for (CuratorFramework c : clients) c.close();
    return rc;
  }

  private int runConfig() throws Exception {
    CuratorFramework writer = connect();
    writer.setData().forPath(d.path, "v0".getBytes(StandardCharsets.UTF_8));
    final AtomicReference<String> expected = new AtomicReference<>("v0");
    final AtomicReference<CountDownLatch> all = new AtomicReference<>(new CountDownLatch(0));
    final AtomicInteger remaining = new AtomicInteger();
    final AtomicLong lastAt = new AtomicLong();
    List<CuratorFramework> clients = new ArrayList<>();
    List<CuratorCache> caches = new ArrayList<>();
    for (int i = 0; i < d.contenders; ++i) {
      CuratorFramework c = connect();
      CuratorCache cache = CuratorCache.build(c, d.path, CuratorCache.Options.SINGLE_NODE_CACHE);
      CountDownLatch loaded = new CountDownLatch(1);
      cache.listenable().addListener(CuratorCacheListener.builder()
          .forInitialized(loaded::countDown)
          .forChanges((before, after) -> {
            if (!Arrays.equals(after.getData(), expected.get().getBytes(StandardCharsets.UTF_8))) return;
            long t = DriverSupport.now();
            if (remaining.decrementAndGet() == 0) {
              lastAt.set(t);
              all.get().countDown();
            }
          })
          .build());
      cache.start();
      if (!loaded.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("cache load");
      clients.add(c);
      caches.add(cache);
    }
    final long[] version = {0};
    int rc = d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
      String value = "v" + ++version[0];
      CountDownLatch latch = new CountDownLatch(1);
      remaining.set(d.contenders);
      all.set(latch);
      expected.set(value);
      long t0 = DriverSupport.now();
      writer.setData().forPath(d.path, value.getBytes(StandardCharsets.UTF_8));
      if (!latch.await(30, TimeUnit.SECONDS)) return -1;
      return lastAt.get() - t0;
    }));
    for (CuratorCache cache : caches) cache.close();
    for (CuratorFramework c : clients) c.close();
    writer.close();
    return rc;
  }

  // A CuratorCache over the run's path with 10 children (persistent recursive watch on 3.6+
  // servers, and a read per change); each event: the writer sets one child → the cache's
  // listener sees the new data.
  private int runSubtreeWatch() throws Exception {
    CuratorFramework writer = connect();
    List<String> children = new ArrayList<>();
    for (int i = 0; i < 10; ++i) {
      children.add(d.path + "/c" + i);
      if (writer.checkExists().forPath(children.get(i)) == null) {
        writer.create().forPath(children.get(i), new byte[0]);
      }
    }
    final AtomicReference<String> expected = new AtomicReference<>("");
    final AtomicReference<CountDownLatch> fired = new AtomicReference<>(new CountDownLatch(0));
    final AtomicLong firedAt = new AtomicLong();
    CuratorFramework c = connect();
    CuratorCache cache = CuratorCache.build(c, d.path);
    CountDownLatch loaded = new CountDownLatch(1);
    cache.listenable().addListener(CuratorCacheListener.builder()
        .forInitialized(loaded::countDown)
        .forChanges((before, after) -> {
          if (!after.getPath().equals(expected.get())) return;
          firedAt.set(DriverSupport.now());
          fired.get().countDown();
        })
        .build());
    cache.start();
    if (!loaded.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("cache load");
    final byte[] data = new byte[16];
    final long[] next = {0};
    int rc = d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
      String target = children.get((int) (next[0]++ % children.size()));
      CountDownLatch latch = new CountDownLatch(1);
      fired.set(latch);
      expected.set(target);
      long t0 = DriverSupport.now();
      writer.setData().forPath(target, data);
      if (!latch.await(30, TimeUnit.SECONDS)) return -1;
      return firedAt.get() - t0;
    }));
    cache.close();
    c.close();
    writer.close();
    return rc;
  }

  private ServiceDiscovery<Void> discovery(CuratorFramework client) throws Exception {
    ServiceDiscovery<Void> discovery =
        ServiceDiscoveryBuilder.builder(Void.class).client(client).basePath(d.path).build();
    discovery.start();
    return discovery;
  }

  /** The instance zkcpp's driver registers: svc/`id` at 10.0.0.1:80, no payload. (The
   * constructor, not ServiceInstance.builder(), which enumerates the local addresses.) */
  private static ServiceInstance<Void> instance(String id) {
    return new ServiceInstance<>("svc", id, "10.0.0.1", 80, null, null, System.currentTimeMillis(),
                                 ServiceType.DYNAMIC, null);
  }

  /** What the cache listener waits for: instance `id` present (or gone) in the cache. */
  private static final class Awaited {
    final String id;
    final boolean present;
    final CountDownLatch seen = new CountDownLatch(1);
    final AtomicLong at = new AtomicLong();
    Awaited(String id, boolean present) {
      this.id = id;
      this.present = present;
    }
  }

  private static boolean holds(List<ServiceInstance<Void>> instances, String id) {
    for (ServiceInstance<Void> i : instances) {
      if (id.equals(i.getId())) return true;
    }
    return false;
  }

  private int runDiscovery() throws Exception {
    CuratorFramework writer = connect(), reader = connect();
    ServiceDiscovery<Void> registry = discovery(writer);
    for (int i = 0; i < d.contenders; ++i) registry.registerService(instance("i" + i));
    ServiceDiscovery<Void> readerDiscovery = discovery(reader);
    ServiceCache<Void> cache = readerDiscovery.serviceCacheBuilder().name("svc").build();
    final AtomicReference<Awaited> awaited = new AtomicReference<>();
    cache.addListener(new ServiceCacheListener() {
      @Override public void cacheChanged() {
        Awaited a = awaited.get();
        if (a == null || a.seen.getCount() == 0) return;
        if (holds(cache.getInstances(), a.id) != a.present) return;
        if (a.at.compareAndSet(0, DriverSupport.now())) a.seen.countDown();
      }
      @Override public void stateChanged(CuratorFramework client, ConnectionState state) {}
    });
    cache.start();  // returns once the initial load is done
    int rc;
    if (d.workload.equals("discovery_lookup")) {
      final int expected = d.contenders;
      rc = d.warmAndMeasure(n -> DriverSupport.timeOps(n, () -> cache.getInstances().size() == expected));
    } else {
      final long[] next = {0};
      rc = d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
        ServiceInstance<Void> added = instance("p" + next[0]++);
        Awaited in = new Awaited(added.getId(), true);
        awaited.set(in);
        long t0 = DriverSupport.now();
        registry.registerService(added);
        boolean seen = in.seen.await(30, TimeUnit.SECONDS);
        Awaited out = new Awaited(added.getId(), false);
        awaited.set(out);
        registry.unregisterService(added);
        if (!out.seen.await(30, TimeUnit.SECONDS)) return -1;
        return seen ? in.at.get() - t0 : -1;
      }));
    }
    cache.close();
    readerDiscovery.close();
    registry.close();
    writer.close();
    reader.close();
    return rc;
  }

  private int run() throws Exception {
    switch (d.workload) {
      case "lock":
      case "lock_scoped":  // Curator's release always waits for the delete
        return runLock();
      case "handoff": return runHandoff();
      case "config": return runConfig();
      case "subtree_watch": return runSubtreeWatch();
      case "discovery_lookup":
      case "discovery_propagation": return runDiscovery();
      case "session":
        return d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
          long t0 = DriverSupport.now();
          CuratorFramework c = connect();
          long t1 = DriverSupport.now();
          c.close();
          return t1 - t0;
        }));
      default:
        System.err.println("curator driver: unknown workload " + d.workload);
        return 2;
    }
  }

  public static void main(String[] argv) throws Exception {
    CuratorDriver driver = new CuratorDriver();
    DriverSupport.main("CuratorDriver", driver.d, argv, driver::run);
  }
}
