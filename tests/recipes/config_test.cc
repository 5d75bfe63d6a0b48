// Tests of zk::recipes::ConfigWatcher and NodeCache on every backend.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recipe_test.h"
#include "testing/backend_test.h"
#include "zk/client.h"
#include "zk/path.h"
#include "zk/recipes/config_watcher.h"
#include "zk/recipes/node_cache.h"

namespace zk::recipes {
namespace {

using ::testing::HasSubstr;
using zk::testing::IsOk;
using zk::testing::StatusIs;
using zk::testing::WaitFor;

constexpr auto kLoad = std::chrono::seconds(10);

absl::StatusOr<int> DecodeInt(std::string_view data) {
  int value;
  if (!absl::SimpleAtoi(absl::string_view(data.data(), data.size()), &value)) {
    return absl::InvalidArgumentError(absl::StrCat("not an int: ", std::string(data)));
  }
  return value;
}

class ConfigTest : public testing::RecipeTest {
 protected:
  std::string ConfigPath() const { return JoinPath(Root(), "config/limits"); }
};

TEST_P(ConfigTest, CurrentListenerCasDeleteAndRecreate) {
  auto writer = NewClient();
  auto reader = NewClient();
  auto config = ConfigWatcher::Create(*reader, ConfigPath());
  ASSERT_THAT(config.status(), IsOk());
  std::mutex mu;
  std::vector<ConfigValue> values;
  std::vector<absl::StatusOr<int>> typed;
  Subscription sub = (*config)->AddListener([&](const ConfigValue& v) {
    std::lock_guard<std::mutex> lock(mu);
    values.push_back(v);
  });
  Subscription typed_sub = (*config)->AddTypedListener<int>(
      DecodeInt, [&](const absl::StatusOr<int>& v, const ConfigValue&) {
        std::lock_guard<std::mutex> lock(mu);
        typed.push_back(v);
      });
  ASSERT_THAT((*config)->Start(), IsOk());
  EXPECT_THAT((*config)->Start(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT((*config)->WaitUntilLoaded(kLoad), IsOk());
  EXPECT_FALSE((*config)->Current()->exists);
  EXPECT_THAT((*config)->CurrentAs<int>(DecodeInt).status(),
              StatusIs(absl::StatusCode::kNotFound));

  // Created by an unconditional publish (with its parent).
  auto created = ConfigWatcher::Publish(*writer, ConfigPath(), "10");
  ASSERT_THAT(created.status(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*config)->Current()->mzxid() == created->mzxid; },
                      absl::Seconds(10)));
  EXPECT_EQ((*config)->Current()->data, "10");
  EXPECT_EQ((*config)->Current()->version(), 0);
  EXPECT_THAT((*config)->CurrentAs<int>(DecodeInt), zk::testing::IsOkAndHolds(10));

  // Compare-and-set.
  EXPECT_THAT(ConfigWatcher::Publish(*writer, ConfigPath(), "11", 7).status(),
              StatusIs(absl::StatusCode::kAborted));
  auto updated = ConfigWatcher::Publish(*writer, ConfigPath(), "12", 0);
  ASSERT_THAT(updated.status(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*config)->Current()->data == "12"; }, absl::Seconds(10)));
  EXPECT_EQ((*config)->Current()->version(), 1);

  // Delete, then re-create: both are seen.
  ASSERT_THAT(writer->Delete(ConfigPath()), IsOk());
  ASSERT_TRUE(WaitFor([&] { return !(*config)->Current()->exists; }, absl::Seconds(10)));
  EXPECT_THAT(ConfigWatcher::Publish(*writer, ConfigPath(), "x", 1).status(),
              StatusIs(absl::StatusCode::kNotFound));
  auto recreated = ConfigWatcher::Publish(*writer, ConfigPath(), "not-a-number");
  ASSERT_THAT(recreated.status(), IsOk());
  ASSERT_TRUE(WaitFor([&] { return (*config)->Current()->mzxid() == recreated->mzxid; },
                      absl::Seconds(10)));
  EXPECT_EQ((*config)->Current()->version(), 0);
  EXPECT_THAT((*config)->CurrentAs<int>(DecodeInt).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "not an int"));

  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return values.size() == 4 && typed.size() == 4;
  }, absl::Seconds(10)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(values[0].data, "10");
  EXPECT_EQ(values[1].data, "12");
  EXPECT_FALSE(values[2].exists);
  EXPECT_EQ(values[3].data, "not-a-number");
  EXPECT_THAT(typed[0], zk::testing::IsOkAndHolds(10));
  EXPECT_THAT(typed[2].status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(typed[3].status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ConfigWatcher::Create(*reader, "relative").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// One writer, 20 subscribers on 4 clients, 1,000 updates, with faults: a subscriber client's
// session expired, the server restarted. Every subscriber sees a strictly increasing mzxid
// sequence that ends at the last value written.
TEST_P(ConfigTest, TwentySubscribersConvergeThroughFaults) {
  constexpr int kUpdates = 1000;
  constexpr int kClients = 4;
  constexpr int kSubscribers = 20;
  auto writer = NewClient();
  ASSERT_THAT(ConfigWatcher::Publish(*writer, ConfigPath(), "init").status(), IsOk());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(NewClient(std::chrono::milliseconds(4000)));

  struct Subscriber {
    std::unique_ptr<ConfigWatcher> watcher;
    Subscription subscription;
    std::mutex mu;
    std::vector<int64_t> mzxids;
    std::string last_data;
    int64_t last_mzxid = 0;
  };
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int i = 0; i < kSubscribers; ++i) {
    auto s = std::make_unique<Subscriber>();
    s->watcher = *ConfigWatcher::Create(*clients[i % kClients], ConfigPath());
    Subscriber* raw = s.get();
    s->subscription = s->watcher->AddListener([raw](const ConfigValue& v) {
      std::lock_guard<std::mutex> lock(raw->mu);
      if (!v.exists) return;
      raw->mzxids.push_back(v.mzxid());
      raw->last_data = v.data;
      raw->last_mzxid = v.mzxid();
    });
    ASSERT_THAT(s->watcher->Start(), IsOk());
    subscribers.push_back(std::move(s));
  }
  for (auto& s : subscribers) ASSERT_THAT(s->watcher->WaitUntilLoaded(kLoad), IsOk());

  int faults = 0;
  int retries = 0;
  Stat last;
  std::string last_data;
  for (int i = 0; i < kUpdates; ++i) {
    if (i == kUpdates / 3) {
      Client& victim = *clients[1];
      if (backend().ExpireSession(victim.session_id(), victim.session_password()).ok()) faults++;
    }
    if (i == 2 * kUpdates / 3) {
      if (backend().Restart().ok()) faults++;
    }
    last_data = absl::StrCat("v", i);
    for (;;) {
      absl::StatusOr<Stat> written = ConfigWatcher::Publish(*writer, ConfigPath(), last_data);
      if (written.ok()) {
        last = *written;
        break;
      }
      // Connection loss while the server restarts: the outcome is unknown; write again.
      ASSERT_TRUE(absl::IsUnavailable(written.status()) ||
                  absl::IsDeadlineExceeded(written.status()) ||
                  IsSessionExpired(written.status()))
          << written.status();
      ASSERT_LT(++retries, 200);
      ASSERT_THAT(writer->WaitUntilConnected(std::chrono::seconds(20)), IsOk());
    }
  }
  EXPECT_EQ(faults, 2);
  for (auto& s : subscribers) {
    ASSERT_TRUE(WaitFor([&] {
      std::lock_guard<std::mutex> lock(s->mu);
      return s->last_mzxid == last.mzxid;
    }, absl::Seconds(30)))
        << "a subscriber never saw the last value";
    std::lock_guard<std::mutex> lock(s->mu);
    EXPECT_EQ(s->last_data, last_data);
    for (size_t j = 1; j < s->mzxids.size(); ++j) {
      ASSERT_GT(s->mzxids[j], s->mzxids[j - 1]) << "at delivery " << j;
    }
    EXPECT_EQ(s->watcher->Current()->mzxid(), last.mzxid);
    EXPECT_TRUE(s->watcher->status().connected);
  }
  std::printf("config fan-out (%s): %d updates, %d subscribers, %d faults, %d write retries\n",
              zk::testing::BackendName(kind()).c_str(), kUpdates, kSubscribers, faults, retries);
}

TEST_P(ConfigTest, NodeCacheServesLastValueWhileDisconnected) {
  auto writer = NewClient();
  auto reader = NewClient();
  const std::string path = JoinPath(Root(), "node");
  ASSERT_THAT(writer->Create(path, "a", {.create_parents = true}).status(), IsOk());
  auto cache = *NodeCache::Create(*reader, path);
  ASSERT_THAT(cache->Start(), IsOk());
  ASSERT_THAT(cache->WaitUntilLoaded(kLoad), IsOk());
  EXPECT_EQ(cache->Current()->data, "a");
  EXPECT_EQ(cache->status().Staleness(), absl::ZeroDuration());
  ASSERT_THAT(backend().Restart(), IsOk());
  // While the server is away (or just after), the last value is still served.
  EXPECT_EQ(cache->Current()->data, "a");
  // The writer may not have noticed the restart yet: a write then meets the dropped
  // connection (CONNECTIONLOSS, outcome unknown). Setting the same value again is safe.
  ASSERT_TRUE(WaitFor([&] { return writer->Set(path, "b").ok(); }, absl::Seconds(20)));
  ASSERT_TRUE(WaitFor([&] { return cache->Current()->data == "b"; }, absl::Seconds(20)));
  EXPECT_TRUE(cache->status().connected);
}

ZK_INSTANTIATE_BACKEND_TEST(ConfigTest);

}  // namespace
}  // namespace zk::recipes
