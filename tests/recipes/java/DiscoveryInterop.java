// Curator's ServiceDiscovery (curator-x-discovery 5.4, Debian's jars) as the other side of
// tests/recipes/discovery_interop_test.cc. Two modes:
//
//   query <connect> <base> <payload>:<service>...
//     For each spec (payload "void": builder(Void.class), "map": builder(Map.class)), asks a
//     ServiceDiscovery for the service's instances twice: queryForInstances() and a started
//     ServiceCache. Prints, per spec and way ("query" or "cache"):
//       <spec> <way> instance <id> <address> <port> <sslPort|null> <payload JSON|null>
//       <spec> <way> count <n>             (after the instances)
//       <spec> <way> error <exception>     (instead, if it threw)
//     The payload JSON is printed without type information, keys sorted.
//
//   register <connect> <base> <service> <payload>:<id>:<address>:<port>[:<k>=<v>,<k>=<v>...]...
//     Registers the instances ("void": payload null through a Void discovery; "map": a
//     LinkedHashMap payload through a Map discovery), prints "registered <id>" for each, then
//     "ready"; at EOF on stdin closes the discoveries (which unregisters them) and prints
//     "closed".
//
// Exit status 0 unless the arguments or the connection are bad. Compiled by CMake (javac).

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;

public final class DiscoveryInterop {
  private static final ObjectMapper PLAIN = new ObjectMapper();

  public static void main(String[] args) throws Exception {
    if (args.length < 3) usage();
    final String mode = args[0];
    try (CuratorFramework client = CuratorFrameworkFactory.newClient(
             args[1], 10000, 10000, new RetryNTimes(5, 200))) {
      client.start();
      if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) {
        System.out.println("error not connected");
        System.exit(2);
      }
      if (mode.equals("query")) {
        for (int i = 3; i < args.length; ++i) query(client, args[2], args[i]);
      } else if (mode.equals("register") && args.length >= 4) {
        register(client, args[2], args[3], args);
      } else {
        usage();
      }
    }
    System.out.flush();
  }

  private static void usage() {
    System.out.println("error usage: query|register <connect> <base> ...");
    System.exit(2);
  }

  private static Class<?> payloadClass(String payload) {
    if (payload.equals("void")) return Void.class;
    if (payload.equals("map")) return Map.class;
    usage();
    return null;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static ServiceDiscovery<Object> discovery(CuratorFramework client, String base,
                                                    String payload) throws Exception {
    ServiceDiscovery<Object> discovery = (ServiceDiscovery<Object>) ServiceDiscoveryBuilder
        .builder((Class) payloadClass(payload)).client(client).basePath(base).build();
    discovery.start();
    return discovery;
  }

  private static void query(CuratorFramework client, String base, String spec) throws Exception {
    final String[] parts = spec.split(":", 2);
    if (parts.length != 2) usage();
    try (ServiceDiscovery<Object> discovery = discovery(client, base, parts[0])) {
      try {
        print(spec, "query", new ArrayList<>(discovery.queryForInstances(parts[1])));
      } catch (Exception e) {
        System.out.println(spec + " query error " + e);
      }
      try (ServiceCache<Object> cache = discovery.serviceCacheBuilder().name(parts[1]).build()) {
        CountDownLatch loaded = cache.startImmediate();
        if (loaded.await(20, TimeUnit.SECONDS)) {
          print(spec, "cache", cache.getInstances());
        } else {
          System.out.println(spec + " cache error not loaded within 20 s");
        }
      } catch (Exception e) {
        System.out.println(spec + " cache error " + e);
      }
    }
  }

  private static void print(String spec, String way, List<ServiceInstance<Object>> instances)
      throws Exception {
    for (ServiceInstance<Object> instance : instances) {
      final Object payload = instance.getPayload();
      final String json = payload == null
          ? "null"
          : PLAIN.writeValueAsString(payload instanceof Map ? new TreeMap<>((Map<?, ?>) payload)
                                                            : payload);
      System.out.println(spec + " " + way + " instance " + instance.getId() + " "
          + instance.getAddress() + " " + instance.getPort() + " " + instance.getSslPort() + " "
          + json);
    }
    System.out.println(spec + " " + way + " count " + instances.size());
  }

  private static void register(CuratorFramework client, String base, String service,
                               String[] args) throws Exception {
    final ServiceDiscovery<Object> voids = discovery(client, base, "void");
    final ServiceDiscovery<Object> maps = discovery(client, base, "map");
    for (int i = 4; i < args.length; ++i) {
      final String[] parts = args[i].split(":", 5);
      if (parts.length < 4) usage();
      Object payload = null;
      if (parts[0].equals("map")) {
        final Map<String, String> map = new LinkedHashMap<>();
        if (parts.length == 5) {
          for (String pair : parts[4].split(",")) {
            final String[] kv = pair.split("=", 2);
            map.put(kv[0], kv.length == 2 ? kv[1] : "");
          }
        }
        payload = map;
      }
      final ServiceInstance<Object> instance = ServiceInstance.<Object>builder()
          .name(service).id(parts[1]).address(parts[2]).port(Integer.parseInt(parts[3]))
          .payload(payload).build();
      (parts[0].equals("map") ? maps : voids).registerService(instance);
      System.out.println("registered " + parts[1]);
    }
    System.out.println("ready");
    System.out.flush();
    final InputStream in = System.in;
    while (in.read() >= 0) {
    }
    maps.close();
    voids.close();
    System.out.println("closed");
  }
}
