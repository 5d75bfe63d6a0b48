// The Java client 3.8 (plain org.apache.zookeeper.ZooKeeper) in the side-by-side suite: the
// client workloads of common/driver_common.h. Pipelined: async getData/setData whose callback
// (on the client's EventThread) issues the next; the others with the blocking calls; watches
// with distinct Watcher objects (the client keeps a set per path, so they stay distinct).
//
// Compiled by CMake (javac) against Debian's jars; run as
//   java -cp <classes>:<jars> JavaClientDriver --hosts=H --path=/p --workload=sync_get ...

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public final class JavaClientDriver {
  private final DriverSupport d = new DriverSupport();

  private ZooKeeper connect() throws Exception {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(d.hosts, 10000, event -> {
      if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
    });
    if (!connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("connect");
    return zk;
  }

  /** `total` async ops, `window` in flight; each completion issues the next. */
  private DriverSupport.Measurement pipelined(ZooKeeper zk, long total, boolean get,
                                              byte[] value) throws Exception {
    DriverSupport.Measurement m = new DriverSupport.Measurement();
    AtomicLong issued = new AtomicLong(Math.min(d.window, total));
    AtomicLong completed = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    CountDownLatch done = new CountDownLatch(1);
    final long expected = d.size;
    final Runnable[] issue = new Runnable[1];
    AsyncCallback.DataCallback onGet = (rc, p, ctx, data, stat) -> {
      if (rc != 0 || data == null || data.length != expected) errors.incrementAndGet();
      if (issued.getAndIncrement() < total) issue[0].run();
      if (completed.incrementAndGet() == total) done.countDown();
    };
    AsyncCallback.StatCallback onSet = (rc, p, ctx, stat) -> {
      if (rc != 0) errors.incrementAndGet();
      if (issued.getAndIncrement() < total) issue[0].run();
      if (completed.incrementAndGet() == total) done.countDown();
    };
    issue[0] = get ? () -> zk.getData(d.path, false, onGet, null)
                   : () -> zk.setData(d.path, value, -1, onSet, null);
    long cpu0 = DriverSupport.cpuNanos(), t0 = DriverSupport.now();
    long first = Math.min(d.window, total);
    for (long i = 0; i < first; ++i) issue[0].run();
    if (!done.await(300, TimeUnit.SECONDS)) throw new IllegalStateException("pipelined run timed out");
    m.wallNs = DriverSupport.now() - t0;
    m.cpuNs = DriverSupport.cpuNanos() - cpu0;
    m.count = total;
    m.errors = errors.get();
    return m;
  }

  private int run() throws Exception {
    if (d.workload.equals("session")) {
      return d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
        long t0 = DriverSupport.now();
        ZooKeeper zk = connect();
        long t1 = DriverSupport.now();
        zk.close();
        return t1 - t0;
      }));
    }
    ZooKeeper zk = connect();
    final byte[] value = new byte[(int) d.size];
    switch (d.workload) {
      case "sync_get":
        return d.warmAndMeasure(n -> DriverSupport.timeOps(n, () -> {
          byte[] data = zk.getData(d.path, false, null);
          return data != null && data.length == d.size;
        }));
      case "sync_set":
        return d.warmAndMeasure(n -> DriverSupport.timeOps(n, () -> {
          zk.setData(d.path, value, -1);
          return true;
        }));
      case "pipelined_get":
      case "pipelined_set": {
        final boolean get = d.workload.equals("pipelined_get");
        return d.warmAndMeasure(n -> pipelined(zk, n, get, value));
      }
      case "create_delete": {
        final String child = d.path + "/n";
        return d.warmAndMeasure(n -> DriverSupport.timeOps(n, () -> {
          zk.create(child, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
          zk.delete(child, -1);
          return true;
        }));
      }
      case "multi": {
        final List<String> nodes = new ArrayList<>();
        for (int i = 0; i < 10; ++i) {
          nodes.add(d.path + "/m" + i);
          try {
            zk.create(nodes.get(i), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
          } catch (KeeperException.NodeExistsException e) {
            // from an earlier run
          }
        }
        final byte[] data = new byte[16];
        return d.warmAndMeasure(n -> DriverSupport.timeOps(n, () -> {
          List<Op> ops = new ArrayList<>();
          for (String node : nodes) ops.add(Op.setData(node, data, -1));
          zk.multi(ops);
          return true;
        }));
      }
      case "children":
        return d.warmAndMeasure(n -> DriverSupport.timeOps(n, () ->
            zk.getChildren(d.path, false).size() == d.size));
      case "watch":
      case "fanout": {
        final ZooKeeper writer = connect();
        final int watchers = d.workload.equals("watch") ? 1 : d.contenders;
        final byte[] data = new byte[16];
        return d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
          final AtomicInteger remaining = new AtomicInteger(watchers);
          final AtomicLong lastAt = new AtomicLong();
          final CountDownLatch all = new CountDownLatch(1);
          for (int i = 0; i < watchers; ++i) {
            Watcher watcher = new Watcher() {  // a distinct object per watcher
              @Override public void process(WatchedEvent event) {
                if (event.getType() != Watcher.Event.EventType.NodeDataChanged) return;
                long t = DriverSupport.now();
                if (remaining.decrementAndGet() == 0) {
                  lastAt.set(t);
                  all.countDown();
                }
              }
            };
            zk.exists(d.path, watcher);
          }
          long t0 = DriverSupport.now();
          writer.setData(d.path, data, -1);
          if (!all.await(30, TimeUnit.SECONDS)) return -1;
          return lastAt.get() - t0;
        }));
      }
      case "subtree_watch": {
        // A recursive persistent watch (addWatch) on the run's path with 10 children; each
        // event: the writer sets one child → the watch sees it.
        final ZooKeeper writer = connect();
        final List<String> children = new ArrayList<>();
        for (int i = 0; i < 10; ++i) {
          children.add(d.path + "/c" + i);
          try {
            writer.create(children.get(i), new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT);
          } catch (KeeperException.NodeExistsException e) {
            // from an earlier run
          }
        }
        final AtomicReference<String> expected = new AtomicReference<>("");
        final AtomicReference<CountDownLatch> fired = new AtomicReference<>(new CountDownLatch(0));
        final AtomicLong firedAt = new AtomicLong();
        zk.addWatch(d.path, event -> {
          if (event.getType() != Watcher.Event.EventType.NodeDataChanged) return;
          if (!expected.get().equals(event.getPath())) return;
          firedAt.set(DriverSupport.now());
          fired.get().countDown();
        }, AddWatchMode.PERSISTENT_RECURSIVE);
        final byte[] data = new byte[16];
        final long[] next = {0};
        return d.warmAndMeasure(n -> DriverSupport.timeEvents(n, () -> {
          String target = children.get((int) (next[0]++ % children.size()));
          CountDownLatch latch = new CountDownLatch(1);
          fired.set(latch);
          expected.set(target);
          long t0 = DriverSupport.now();
          writer.setData(target, data, -1);
          if (!latch.await(30, TimeUnit.SECONDS)) return -1;
          return firedAt.get() - t0;
        }));
      }
      default:
        System.err.println("java driver: unknown workload " + d.workload);
        return 2;
    }
  }

  public static void main(String[] argv) throws Exception {
    JavaClientDriver driver = new JavaClientDriver();
    DriverSupport.main("JavaClientDriver", driver.d, argv, driver::run);
  }
}
