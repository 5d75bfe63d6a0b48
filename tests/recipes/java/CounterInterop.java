// Drives Apache Curator's counter recipes for zkcpp's interop tests (discovery_interop_test.cc):
//   CounterInterop increment <connect> <path> <n>
//       n increments through Curator's DistributedAtomicLong; prints "succeeded <k>" (those
//       that reported success) and "value <v>" (the value read afterwards)
//   CounterInterop shared <connect> <path> <seed> <new>
//       starts Curator's SharedCount, prints "count <value>", then trySetCount(<new>) on the
//       version it read and prints "set <true|false>"
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.RetryNTimes;

public final class CounterInterop {
  public static void main(String[] args) throws Exception {
    CuratorFramework client = CuratorFrameworkFactory.newClient(args[1], new RetryNTimes(20, 100));
    client.start();
    client.blockUntilConnected();
    try {
      if (args[0].equals("increment")) {
        DistributedAtomicLong counter =
            new DistributedAtomicLong(client, args[2], new RetryNTimes(1000, 1));
        int total = Integer.parseInt(args[3]);
        int succeeded = 0;
        for (int i = 0; i < total; i++) {
          AtomicValue<Long> result = counter.increment();
          if (result.succeeded()) succeeded++;
        }
        System.out.println("succeeded " + succeeded);
        System.out.println("value " + counter.get().postValue());
      } else if (args[0].equals("shared")) {
        SharedCount count = new SharedCount(client, args[2], Integer.parseInt(args[3]));
        count.start();
        VersionedValue<Integer> seen = count.getVersionedValue();
        System.out.println("count " + seen.getValue());
        System.out.println("set " + count.trySetCount(seen, Integer.parseInt(args[4])));
        count.close();
      } else {
        System.err.println("unknown command " + args[0]);
        System.exit(2);
      }
    } finally {
      client.close();
    }
  }
}
