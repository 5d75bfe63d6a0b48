// Differential test of the two engines (ClientOptions::engine). The same seeded sequences of
// operations run through a client on the C library's engine and one on the native engine,
// each in a subtree of its own on one server. After every operation both must have given the
// same result (the status with the subtree's name taken out, or the value: data, children,
// the Stat fields that do not depend on zxids or clocks) and the same watch events so far.
// The C library is the oracle: it is what the native engine replaces.

#include <algorithm>
#include <memory>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "zk/client.h"
#include "zk/internal/sync.h"

namespace zk::testing {
namespace {

constexpr int kSeeds = 4;
constexpr int kOpsPerSeed = 400;
const char* const kNames[] = {"a", "b", "c", "a/x", "a/y", "b/z", "a/x/deep"};

std::string StatText(const Stat& s) {
  return absl::StrCat("v", s.version, " cv", s.cversion, " av", s.aversion, " len",
                      s.data_length, " n", s.num_children, s.ephemeral_owner != 0 ? " eph" : "");
}

// One engine's client and subtree.
struct Side {
  std::unique_ptr<Client> client;
  std::string root;
  EventLog events;
  std::vector<Watch> watches;

  std::string Path(const std::string& name) const { return root + "/" + name; }
  // `text` with the subtree's name taken out, so that both sides read the same.
  std::string Relative(std::string_view text) const {
    std::string out(text);
    for (size_t at = out.find(root); at != std::string::npos; at = out.find(root, at + 1)) {
      out.replace(at, root.size(), "~");
    }
    return out;
  }
  // An error as its code and message (ToString's payload order is not fixed).
  std::string Text(const absl::Status& status) const {
    if (status.ok()) return "ok";
    return Relative(absl::StrCat("error ", absl::StatusCodeToString(status.code()), ": ",
                                 status.message()));
  }
  template <typename T>
  std::string Text(const absl::StatusOr<T>& result, std::string (*value)(const T&)) const {
    return result.ok() ? Relative(value(*result)) : Text(result.status());
  }
  // Waits until every event the server sent before now has been delivered: the answer to a
  // read is delivered after them, in order, on the callback executor.
  bool Barrier() {
    zk::internal::Notification done;
    client->AsyncExists(root, [&done](absl::StatusOr<std::optional<Stat>>) { done.Notify(); });
    return done.WaitForNotificationWithTimeout(kWait);
  }
  std::vector<std::string> EventTexts() const {
    std::vector<std::string> out;
    for (const WatchEvent& e : events.events()) {
      out.push_back(Relative(absl::StrCat(std::string(WatchEventTypeName(e.type)), " ", e.path)));
    }
    return out;
  }
};

std::string CreateText(const CreateResult& r) { return absl::StrCat(r.path, " ", StatText(r.stat)); }
std::string StatOnlyText(const Stat& s) { return StatText(s); }
std::string MaybeStatText(const std::optional<Stat>& s) { return s ? StatText(*s) : "none"; }
std::string GetText(const GetResult& r) { return absl::StrCat("'", r.data, "' ", StatText(r.stat)); }
std::string ChildrenText(const ChildrenResult& r) {
  std::vector<std::string> children = r.children;
  std::sort(children.begin(), children.end());
  return absl::StrCat(absl::StrJoin(children, ","), " ", StatText(r.stat));
}
std::string AclText(const AclResult& r) {
  std::string out;
  for (const Acl& acl : r.acl) absl::StrAppend(&out, acl.id.scheme, ":", acl.id.id, "=", acl.perms, " ");
  return absl::StrCat(out, StatText(r.stat));
}
std::string MultiText(const MultiResult& r) {
  std::string out;
  for (const OpResult& op : r.results) absl::StrAppend(&out, "[", op.path, " ", StatText(op.stat), "]");
  return out;
}
class EngineDifferentialTest : public ClientTest {
 protected:
  // Runs operation `kind` with the random choices `choice` on `side`; returns its result text.
  std::string Run(Side& side, int kind, uint32_t choice) {
    const std::string path = side.Path(kNames[choice % std::size(kNames)]);
    const std::string data = absl::StrCat("d", choice % 5);
    const std::optional<int32_t> version =
        choice % 3 == 0 ? std::nullopt : std::optional<int32_t>(static_cast<int32_t>(choice / 7 % 3));
    Client& c = *side.client;
    switch (kind) {
      case 0: {
        const CreateMode modes[] = {CreateMode::kPersistent, CreateMode::kEphemeral,
                                    CreateMode::kPersistentSequential, CreateMode::kContainer};
        return side.Text<CreateResult>(c.Create(path, data, {.mode = modes[choice / 11 % 4]}),
                                       &CreateText);
      }
      case 1: return side.Text(c.Delete(path, version));
      case 2: return side.Text<Stat>(c.Set(path, data, version), &StatOnlyText);
      case 3: return side.Text<GetResult>(c.Get(path), &GetText);
      case 4: return side.Text<std::optional<Stat>>(c.Exists(path), &MaybeStatText);
      case 5: return side.Text<ChildrenResult>(c.GetChildren(path), &ChildrenText);
      case 6: {
        auto r = c.GetAndWatch(path, side.events.Callback());
        if (r.ok()) side.watches.push_back(std::move(r->watch));
        return r.ok() ? side.Relative(GetText(r->result))
                      : side.Text(r.status());
      }
      case 7: {
        auto r = c.ExistsAndWatch(path, side.events.Callback());
        if (r.ok()) side.watches.push_back(std::move(r->watch));
        return r.ok() ? side.Relative(MaybeStatText(r->result))
                      : side.Text(r.status());
      }
      case 8: {
        auto r = c.GetChildrenAndWatch(path, side.events.Callback());
        if (r.ok()) side.watches.push_back(std::move(r->watch));
        return r.ok() ? side.Relative(ChildrenText(r->result))
                      : side.Text(r.status());
      }
      case 9: {
        std::vector<Op> ops;
        for (uint32_t i = 0, n = 1 + choice % 3; i < n; ++i) {
          const uint32_t pick = choice / (13 + i) + i;
          const std::string p = side.Path(kNames[pick % std::size(kNames)]);
          switch (pick / 5 % 4) {
            case 0: ops.push_back(op::Create{.path = p, .data = data}); break;
            case 1: ops.push_back(op::Set{.path = p, .data = data, .expected_version = version}); break;
            case 2: ops.push_back(op::Delete{.path = p, .expected_version = version}); break;
            default: ops.push_back(op::Check{.path = p, .expected_version = version}); break;
          }
        }
        return side.Text<MultiResult>(c.Multi(std::move(ops)), &MultiText);
      }
      case 10: return side.Text<AclResult>(c.GetAcl(path), &AclText);
      case 11: return side.Text(c.SetAcl(path, OpenAclUnsafe(), version));
      default: return side.Text(c.Sync(path));
    }
  }

  std::unique_ptr<Side> NewSide(EngineKind engine, std::string_view name) {
    auto side = std::make_unique<Side>();
    ClientOptions options = Options();
    options.engine = engine;
    side->client = NewClient(options);
    side->root = P(name);
    return side;
  }
};

TEST_P(EngineDifferentialTest, SeededSequencesGiveTheSameResultsAndEvents) {
  int compared = 0;
  int errors = 0;
  int events = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    std::unique_ptr<Side> clib_side = NewSide(EngineKind::kCLibrary, absl::StrCat("clib-", seed));
    std::unique_ptr<Side> native_side = NewSide(EngineKind::kNative, absl::StrCat("native-", seed));
    Side& clib = *clib_side;
    Side& native = *native_side;
    ASSERT_NE(clib.client, nullptr);
    ASSERT_NE(native.client, nullptr);
    ASSERT_THAT(clib.client->Create(clib.root, ""), IsOk());
    ASSERT_THAT(native.client->Create(native.root, ""), IsOk());
    std::mt19937 random(seed);
    for (int i = 0; i < kOpsPerSeed; ++i) {
      const int kind = static_cast<int>(random() % 13);
      const uint32_t choice = random();
      const std::string expected = Run(clib, kind, choice);
      const std::string actual = Run(native, kind, choice);
      ASSERT_EQ(actual, expected) << "seed " << seed << " op " << i << " (kind " << kind << ")";
      ASSERT_TRUE(clib.Barrier());
      ASSERT_TRUE(native.Barrier());
      ASSERT_EQ(native.EventTexts(), clib.EventTexts()) << "seed " << seed << " op " << i;
      ++compared;
      if (absl::StartsWith(expected, "error")) ++errors;
    }
    events += static_cast<int>(clib.events.size());
  }
  std::printf("engine differential (%s): %d operations compared, %d of them errors, %d watch "
              "events\n",
              BackendName(kind()).c_str(), compared, errors, events);
  // The sequences must exercise both outcomes, or the comparison says little.
  EXPECT_GT(errors, kSeeds * kOpsPerSeed / 10);
  EXPECT_GT(events, kSeeds * 5);
}

ZK_INSTANTIATE_BACKEND_TEST(EngineDifferentialTest);

}  // namespace
}  // namespace zk::testing
