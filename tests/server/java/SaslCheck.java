// SaslCheck: the Java ZooKeeper 3.8 client (Debian's zookeeper.jar) authenticating with SASL
// DIGEST-MD5 through the JAAS "Client" section given by -Djava.security.auth.login.config.
// Usage: java -cp <zookeeper jars> SaslCheck.java <hosts> <path>
// Prints the session states up to SaslAuthenticated or AuthFailed; once authenticated, creates
// <path> with the ACL sasl:alice:cdrwa and prints its ACL and whoAmI, then deletes it.
// Exits 0 if the run ended in one of those states, 1 otherwise.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

public class SaslCheck {
  public static void main(String[] args) throws Exception {
    BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
    ZooKeeper zk = new ZooKeeper(args[0], 10000, event -> {
      if (event.getType() == EventType.None) states.add(event.getState());
    });
    List<String> seen = new ArrayList<>();
    KeeperState last = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (last != KeeperState.SaslAuthenticated && last != KeeperState.AuthFailed) {
      long left = deadline - System.nanoTime();
      last = left > 0 ? states.poll(left, TimeUnit.NANOSECONDS) : null;
      if (last == null) break;
      seen.add(last.toString());
    }
    System.out.println("states " + String.join(",", seen));
    if (last == KeeperState.SaslAuthenticated) {
      String path = args[1];
      // Not List.of(): ZooKeeper.validateACL asks the list whether it contains null.
      List<ACL> acl = new ArrayList<>();
      acl.add(new ACL(ZooDefs.Perms.ALL, new Id("sasl", "alice")));
      zk.create(path, "v".getBytes(StandardCharsets.UTF_8), acl, CreateMode.PERSISTENT);
      System.out.println("acl " + zk.getACL(path, new Stat()).toString().replaceAll("\\s+", " "));
      StringBuilder who = new StringBuilder("whoami");
      for (ClientInfo info : zk.whoAmI()) {
        who.append(' ').append(info.getAuthScheme()).append(':').append(info.getUser());
      }
      System.out.println(who);
      zk.delete(path, -1);
    }
    zk.close();
    System.exit(last == KeeperState.SaslAuthenticated || last == KeeperState.AuthFailed ? 0 : 1);
  }
}
