// Interop of zk::recipes::ServiceRegistry / ServiceCache with Apache Curator's ServiceDiscovery
// (curator-x-discovery 5.4 from Debian's jars), both directions, on every backend. The Curator
// side is java/DiscoveryInterop.java, run as a child process; its output lines are parsed here.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/child_process.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/path.h"
#include "zk/recipes/distributed_atomic_long.h"
#include "zk/recipes/service_cache.h"
#include "zk/recipes/service_registry.h"
#include "zk/recipes/shared_count.h"

namespace zk::recipes {
namespace {

using ::testing::HasSubstr;
using zk::testing::ChildProcess;
using zk::testing::IsOk;
using zk::testing::WaitFor;

constexpr char kJava[] = ZKCPP_TEST_JAVA;
constexpr char kClasspath[] = ZKCPP_TEST_DISCOVERY_CLASSPATH;
constexpr absl::Duration kJavaRunTimeout = absl::Seconds(90);

// One run of DiscoveryInterop: stdout and stderr go to a log file, stdin is a pipe held here
// (closing it tells a "register" run to unregister and exit).
class CuratorRun {
 public:
  // Runs `main_class` (DiscoveryInterop or CounterInterop) with `args`.
  static absl::StatusOr<std::unique_ptr<CuratorRun>> Start(
      const std::vector<std::string>& args, const std::string& log_path,
      const std::string& main_class = "DiscoveryInterop") {
    auto run = std::unique_ptr<CuratorRun>(new CuratorRun(log_path));
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      return absl::InternalError(absl::StrCat("open ", log_path, ": ", std::strerror(errno)));
    }
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      ::close(log_fd);
      return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
    }
    std::vector<std::string> argv = {kJava, "-Xmx128m", "-XX:+UseSerialGC",
                                     "-XX:TieredStopAtLevel=1", "-cp", kClasspath,
                                     main_class};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<ChildProcess> child =
        ChildProcess::Spawn(argv, {.in = pipe_fds[0], .out = log_fd, .err = log_fd});
    ::close(pipe_fds[0]);
    ::close(log_fd);
    run->stdin_fd_ = pipe_fds[1];
    if (!child.ok()) return child.status();
    run->child_ = *std::move(child);
    return run;
  }

  ~CuratorRun() {
    CloseStdin();
    child_.KillAndReap();
  }

  // The lines written so far.
  std::vector<std::string> Lines() const {
    std::ifstream in(log_path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  std::string Log() const { return absl::StrJoin(Lines(), "\n"); }

  bool WaitForLine(const std::string& wanted, absl::Duration timeout) {
    return WaitFor([&] {
      for (const std::string& line : Lines()) {
        if (line == wanted) return true;
      }
      return false;
    }, timeout, absl::Milliseconds(20));
  }

  void CloseStdin() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    stdin_fd_ = -1;
  }

  // Waits for the exit; OK if the status was 0.
  absl::Status Finish(absl::Duration timeout) {
    CloseStdin();
    absl::StatusOr<int> status = child_.WaitForExit(absl::Now() + timeout);
    if (!status.ok()) return status.status();
    if (*status != 0) {
      return absl::InternalError(absl::StrCat("Curator driver ",
                                              zk::testing::DescribeWaitStatus(*status)));
    }
    return absl::OkStatus();
  }

 private:
  explicit CuratorRun(std::string log_path) : log_path_(std::move(log_path)) {}

  const std::string log_path_;
  ChildProcess child_;
  int stdin_fd_ = -1;
};

// What one Curator consumer ("<payload>:<service> <query|cache>") reported.
struct CuratorView {
  // id → "<address> <port> <sslPort> <payload JSON>"
  std::map<std::string, std::string> instances;
  std::optional<int> count;
  std::vector<std::string> errors;
};

// Parses the lines of a "query" run, by "<spec> <way>".
std::map<std::string, CuratorView> ParseQueryOutput(const std::vector<std::string>& lines) {
  std::map<std::string, CuratorView> views;
  for (const std::string& line : lines) {
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    if (fields.size() < 4 || (fields[1] != "query" && fields[1] != "cache")) continue;
    CuratorView& view = views[absl::StrCat(fields[0], " ", fields[1])];
    if (fields[2] == "count") {
      view.count = std::stoi(fields[3]);
    } else if (fields[2] == "error") {
      view.errors.push_back(fields[3]);
    } else if (fields[2] == "instance") {
      std::vector<std::string> rest = absl::StrSplit(fields[3], absl::MaxSplits(' ', 1));
      view.instances[rest[0]] = rest.size() > 1 ? rest[1] : "";
    }
  }
  return views;
}

class DiscoveryInteropTest : public testing::RecipeTest {
 protected:
  void SetUp() override {
    RecipeTest::SetUp();
    if (HasFatalFailure()) return;
    if (std::string(kClasspath).empty()) {
      GTEST_SKIP() << "javac or Curator's jars were not found at configure time";
    }
  }

  std::string Base() const { return JoinPath(Root(), "services"); }

  std::string LogPath(std::string_view what) const {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name =
        absl::StrCat(info->test_suite_name(), ".", info->name(), ".", std::string(what));
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    return absl::StrCat(::testing::TempDir(), name, ".", ::getpid(), ".log");
  }

  // Runs DiscoveryInterop "query" for `specs` and returns its views.
  std::map<std::string, CuratorView> CuratorQuery(const std::vector<std::string>& specs) {
    std::vector<std::string> args = {"query", connect_string(), Base()};
    args.insert(args.end(), specs.begin(), specs.end());
    auto run = CuratorRun::Start(args, LogPath("query"));
    EXPECT_THAT(run.status(), IsOk());
    if (!run.ok()) return {};
    EXPECT_THAT((*run)->Finish(kJavaRunTimeout), IsOk()) << (*run)->Log();
    query_log_ = (*run)->Log();
    return ParseQueryOutput((*run)->Lines());
  }

  std::string query_log_;  // the output of the last CuratorQuery
};

ServiceInstance Instance(std::string name, std::string id, int32_t port) {
  return {.name = std::move(name), .id = std::move(id), .address = "10.0.0.1", .port = port};
}

// zkcpp registers; Curator's ServiceDiscovery (Void and Map payload classes), through
// queryForInstances() and its ServiceCache, sees every instance with its metadata.
TEST_P(DiscoveryInteropTest, CuratorDiscoversZkcppInstances) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto registry = ServiceRegistry::Create(*client, Base());
  ASSERT_THAT(registry.status(), IsOk());
  std::vector<std::unique_ptr<ServiceRegistry::Registration>> registrations;
  auto add = [&](ServiceInstance instance) {
    auto registration = (*registry)->Register(std::move(instance));
    ASSERT_THAT(registration.status(), IsOk());
    registrations.push_back(*std::move(registration));
  };
  // "plain": no metadata (what a Void consumer reads); "tagged": with and without metadata.
  ServiceInstance p1 = Instance("plain", "p-1", 8080);
  p1.tls_port = 8443;
  ASSERT_NO_FATAL_FAILURE(add(p1));
  ASSERT_NO_FATAL_FAILURE(add(Instance("plain", "p-2", 8081)));
  ServiceInstance t1 = Instance("tagged", "t-1", 9090);
  t1.metadata = {{"zone", "eu-1"}, {"tier", "gold"}};
  ASSERT_NO_FATAL_FAILURE(add(t1));
  ASSERT_NO_FATAL_FAILURE(add(Instance("tagged", "t-2", 9091)));

  auto plain_node = client->Get((*registry)->InstancePath("plain", "p-1"));
  ASSERT_THAT(plain_node.status(), IsOk());
  EXPECT_THAT(plain_node->data, HasSubstr("\"payload\":null"));

  const std::map<std::string, CuratorView> views =
      CuratorQuery({"void:plain", "map:plain", "map:tagged"});
  const std::map<std::string, std::string> plain = {{"p-1", "10.0.0.1 8080 8443 null"},
                                                    {"p-2", "10.0.0.1 8081 null null"}};
  const std::map<std::string, std::string> tagged = {
      {"t-1", R"(10.0.0.1 9090 null {"tier":"gold","zone":"eu-1"})"},
      {"t-2", "10.0.0.1 9091 null null"}};
  const std::map<std::string, std::map<std::string, std::string>> expected = {
      {"void:plain query", plain}, {"void:plain cache", plain},
      {"map:plain query", plain},  {"map:plain cache", plain},
      {"map:tagged query", tagged}, {"map:tagged cache", tagged}};
  for (const auto& [consumer, instances] : expected) {
    SCOPED_TRACE(absl::StrCat(consumer, "; Curator's output:\n", query_log_));
    auto it = views.find(consumer);
    ASSERT_NE(it, views.end()) << "no output";
    EXPECT_THAT(it->second.errors, ::testing::IsEmpty());
    EXPECT_EQ(it->second.instances, instances);
    EXPECT_EQ(it->second.count, static_cast<int>(instances.size()));
  }
}

// Curator registers (a Void and a Map payload); zkcpp's ServiceCache sees them beside zkcpp's
// own instance, with the Map as metadata (without Jackson's "@class"), and sees them leave.
TEST_P(DiscoveryInteropTest, ZkcppCacheSeesCuratorInstances) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  auto registry = ServiceRegistry::Create(*client, Base());
  ASSERT_THAT(registry.status(), IsOk());
  ServiceInstance own = Instance("mixed", "z-1", 7000);
  own.metadata = {{"lang", "c++"}};
  auto registration = (*registry)->Register(own);
  ASSERT_THAT(registration.status(), IsOk());
  auto cache = ServiceCache::Create(*client, Base(), "mixed");
  ASSERT_THAT(cache.status(), IsOk());
  ASSERT_THAT((*cache)->Start(), IsOk());
  ASSERT_THAT((*cache)->WaitUntilLoaded(std::chrono::seconds(10)), IsOk());

  auto run = CuratorRun::Start({"register", connect_string(), Base(), "mixed",
                                "void:c-1:10.0.0.5:9001",
                                "map:c-2:10.0.0.6:9002:zone=eu-1,tier=gold"},
                               LogPath("register"));
  ASSERT_THAT(run.status(), IsOk());
  ASSERT_TRUE((*run)->WaitForLine("ready", kJavaRunTimeout)) << (*run)->Log();

  // What Curator writes for a Map payload: Jackson's type id inside the payload object.
  auto curator_node = client->Get((*registry)->InstancePath("mixed", "c-2"));
  ASSERT_THAT(curator_node.status(), IsOk());
  EXPECT_THAT(curator_node->data, HasSubstr("\"@class\":\"java.util.LinkedHashMap\""));
  auto void_node = client->Get((*registry)->InstancePath("mixed", "c-1"));
  ASSERT_THAT(void_node.status(), IsOk());
  EXPECT_THAT(void_node->data, HasSubstr("\"payload\":null"));

  auto ids = [&] {
    std::set<std::string> seen;
    for (const ServiceInstance& instance : *(*cache)->Instances()) seen.insert(instance.id);
    return seen;
  };
  ASSERT_TRUE(WaitFor([&] { return ids().size() == 3; }, absl::Seconds(20)))
      << absl::StrJoin(ids(), ",");
  std::map<std::string, ServiceInstance> by_id;
  for (const ServiceInstance& instance : *(*cache)->Instances()) by_id[instance.id] = instance;
  ASSERT_EQ(by_id.count("c-1"), 1u);
  EXPECT_EQ(by_id["c-1"].address, "10.0.0.5");
  EXPECT_EQ(by_id["c-1"].port, 9001);
  EXPECT_EQ(by_id["c-1"].tls_port, std::nullopt);
  EXPECT_TRUE(by_id["c-1"].metadata.empty());
  ASSERT_EQ(by_id.count("c-2"), 1u);
  EXPECT_EQ(by_id["c-2"].address, "10.0.0.6");
  EXPECT_EQ(by_id["c-2"].port, 9002);
  EXPECT_EQ(by_id["c-2"].metadata,
            (std::map<std::string, std::string>{{"zone", "eu-1"}, {"tier", "gold"}}));
  ASSERT_EQ(by_id.count("z-1"), 1u);
  EXPECT_EQ(by_id["z-1"].metadata, own.metadata);

  // Curator unregisters on close: only zkcpp's own instance stays.
  (*run)->CloseStdin();
  ASSERT_TRUE(WaitFor([&] { return ids() == std::set<std::string>{"z-1"}; }, absl::Seconds(30)))
      << absl::StrJoin(ids(), ",");
  EXPECT_THAT((*run)->Finish(kJavaRunTimeout), IsOk()) << (*run)->Log();
  EXPECT_TRUE((*run)->WaitForLine("closed", absl::ZeroDuration())) << (*run)->Log();
}

// --- counters --------------------------------------------------------------------------------

// Curator's DistributedAtomicLong and zkcpp's increment one counter (overlapping when the JVM
// starts in time): every increment either side reports as succeeded is in the final value, and
// the bytes are the same layout both ways.
TEST_P(DiscoveryInteropTest, AtomicLongIsSharedWithCurator) {
  constexpr int kEach = 150;
  const std::string path = JoinPath(Root(), "counter");
  auto client = NewClient();
  auto counter = *DistributedAtomicLong::Create(*client, path, {.retry = {.max_attempts = 100}});
  auto run = CuratorRun::Start({"increment", connect_string(), path, std::to_string(kEach)},
                               LogPath("increment"), "CounterInterop");
  ASSERT_THAT(run.status(), IsOk());
  int64_t ours = 0;
  for (int i = 0; i < kEach; ++i) {
    auto result = counter->Increment();
    ASSERT_THAT(result.status(), IsOk());
    if (result->succeeded) ours++;
  }
  ASSERT_THAT((*run)->Finish(kJavaRunTimeout), IsOk()) << (*run)->Log();
  int64_t theirs = -1;
  for (const std::string& line : (*run)->Lines()) {
    if (absl::StartsWith(line, "succeeded ")) {
      ASSERT_TRUE(absl::SimpleAtoi(line.substr(10), &theirs)) << line;
    }
  }
  ASSERT_GE(theirs, 0) << (*run)->Log();
  auto now = counter->Get();
  ASSERT_THAT(now.status(), IsOk());
  EXPECT_EQ(now->post, ours + theirs);
  EXPECT_GT(theirs, 0);
  EXPECT_EQ(client->Get(path)->data, EncodeAtomicLong(ours + theirs));
}

// A SharedCount seeded by zkcpp is read by Curator's SharedCount, whose compare-and-set zkcpp's
// listeners then hear.
TEST_P(DiscoveryInteropTest, SharedCountIsSharedWithCurator) {
  const std::string path = JoinPath(Root(), "shared");
  auto client = NewClient();
  auto count = *SharedCount::Create(*client, path, 5);
  ASSERT_THAT(count->Start(std::chrono::seconds(10)), IsOk());
  std::atomic<int> heard_42{0};
  Subscription sub = count->AddListener([&](const SharedCountEvent& event) {
    if (event.type == SharedCountEventType::kCountChanged && event.count.value == 42) heard_42++;
  });
  auto run = CuratorRun::Start({"shared", connect_string(), path, "7", "42"}, LogPath("shared"),
                               "CounterInterop");
  ASSERT_THAT(run.status(), IsOk());
  ASSERT_THAT((*run)->Finish(kJavaRunTimeout), IsOk()) << (*run)->Log();
  EXPECT_TRUE((*run)->WaitForLine("count 5", absl::ZeroDuration())) << (*run)->Log();
  EXPECT_TRUE((*run)->WaitForLine("set true", absl::ZeroDuration())) << (*run)->Log();
  ASSERT_TRUE(WaitFor([&] { return heard_42.load() == 1; }, absl::Seconds(10)));
  EXPECT_THAT(count->GetCount(), zk::testing::IsOkAndHolds(42));
}

ZK_INSTANTIATE_BACKEND_TEST(DiscoveryInteropTest);

// The JSON layout, without a server: what Curator's consumers need.
TEST(ServiceInstanceJsonTest, PayloadIsNullWithoutMetadataAndTypeIdIsNotMetadata) {
  ServiceInstance bare = Instance("svc", "a", 1);
  EXPECT_THAT(ServiceInstanceToJson(bare), HasSubstr("\"payload\":null"));
  auto parsed = ParseServiceInstance(ServiceInstanceToJson(bare));
  ASSERT_THAT(parsed.status(), IsOk());
  EXPECT_TRUE(parsed->metadata.empty());

  ServiceInstance tagged = Instance("svc", "b", 2);
  tagged.metadata = {{"zone", "eu-1"}};
  EXPECT_THAT(ServiceInstanceToJson(tagged), HasSubstr("\"zone\":\"eu-1\""));
  parsed = ParseServiceInstance(ServiceInstanceToJson(tagged));
  ASSERT_THAT(parsed.status(), IsOk());
  EXPECT_EQ(parsed->metadata, tagged.metadata);

  // Curator's Map payload (Jackson default typing) and an empty one.
  parsed = ParseServiceInstance(
      R"({"name":"svc","id":"c","address":"h","port":3,"sslPort":null,)"
      R"("payload":{"@class":"java.util.LinkedHashMap","zone":"eu-1"},)"
      R"("registrationTimeUTC":1,"serviceType":"DYNAMIC","uriSpec":null,"enabled":true})");
  ASSERT_THAT(parsed.status(), IsOk());
  EXPECT_EQ(parsed->metadata, (std::map<std::string, std::string>{{"zone", "eu-1"}}));
  parsed = ParseServiceInstance(
      R"({"name":"svc","id":"d","address":"h","port":4,"payload":{}})");
  ASSERT_THAT(parsed.status(), IsOk());
  EXPECT_TRUE(parsed->metadata.empty());
}

}  // namespace
}  // namespace zk::recipes
