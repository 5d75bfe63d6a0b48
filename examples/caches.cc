// zkcpp example: cached views of the tree (zk::recipes::NodeCache and ChildrenCache).
//
// A NodeCache follows one node (a feature flag) and a ChildrenCache a directory (the live workers),
// each answering from memory, kept current by watches. Another client creates, changes and deletes
// the flag, and starts then stops three workers (ephemeral nodes). It checks that each cache ends
// up showing what is on the server.
//
// Run: zkcpp-example-caches                     (an embedded server in-process)
//      zkcpp-example-caches --connect=host:2181  (a real ensemble)

#include <chrono>
#include <cstdio>
#include <string>

#include "example_main.h"
#include "zk/recipes/children_cache.h"
#include "zk/recipes/node_cache.h"

namespace {

using zk::recipes::NodeData;

absl::Status Run(const zk_example::Env& env) {
  const std::string flag = env.root() + "/flags/dark-mode";
  const std::string workers = env.root() + "/workers";
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> viewer, env.Connect());
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> writer, env.Connect());

  // NodeCache: the flag does not exist yet; the cache follows its creation, change, deletion.
  zk_example::SharedState<NodeData> flag_now;
  ZK_ASSIGN_OR_RETURN(auto node_cache, zk::recipes::NodeCache::Create(*viewer, flag));
  zk::Subscription on_flag = node_cache->AddListener([&](const NodeData& now) {
    std::printf("  [node cache] %s\n", now.exists ? ("\"" + now.data + "\"").c_str() : "(none)");
    flag_now.Update([&](NodeData& d) { d = now; });
  });
  ZK_RETURN_IF_ERROR(node_cache->Start());
  ZK_RETURN_IF_ERROR(node_cache->WaitUntilLoaded(std::chrono::seconds(10)));
  ZK_RETURN_IF_ERROR(zk_example::Claim(!node_cache->Current()->exists, "no flag at first"));
  ZK_RETURN_IF_ERROR(writer->Create(flag, "off", {.create_parents = true}).status());
  ZK_RETURN_IF_ERROR(flag_now.WaitUntil(
      "the flag is seen", [](const NodeData& d) { return d.exists && d.data == "off"; }));
  ZK_RETURN_IF_ERROR(writer->Set(flag, "on").status());
  ZK_RETURN_IF_ERROR(flag_now.WaitUntil(
      "the change is seen", [](const NodeData& d) { return d.exists && d.data == "on"; }));
  ZK_RETURN_IF_ERROR(writer->Delete(flag));
  ZK_RETURN_IF_ERROR(
      flag_now.WaitUntil("the deletion is seen", [](const NodeData& d) { return !d.exists; }));
  ZK_RETURN_IF_ERROR(zk_example::Claim(true, "the node cache saw create, set and delete"));

  // ChildrenCache: three workers join (ephemeral nodes of their own session) and then leave.
  zk_example::SharedState<size_t> live;
  ZK_ASSIGN_OR_RETURN(auto children_cache, zk::recipes::ChildrenCache::Create(*viewer, workers));
  zk::Subscription on_workers =
      children_cache->AddListener([&](const zk::recipes::ChildrenDelta& delta) {
        for (const auto& c : delta.added) std::printf("  [children cache] + %s\n", c.name.c_str());
        for (const auto& c : delta.removed)
          std::printf("  [children cache] - %s\n", c.name.c_str());
        live.Update([&](size_t& n) { n = n + delta.added.size() - delta.removed.size(); });
      });
  ZK_RETURN_IF_ERROR(children_cache->Start());
  ZK_RETURN_IF_ERROR(children_cache->WaitUntilLoaded(std::chrono::seconds(10)));
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<zk::Client> pool, env.Connect());
  for (int i = 0; i < 3; ++i) {
    ZK_RETURN_IF_ERROR(pool->Create(workers + "/worker-" + std::to_string(i), "idle",
                                    {.mode = zk::CreateMode::kEphemeral, .create_parents = true})
                           .status());
  }
  ZK_RETURN_IF_ERROR(live.WaitUntil("3 workers are seen", [](size_t n) { return n == 3; }));
  ZK_RETURN_IF_ERROR(zk_example::Claim(children_cache->Snapshot()->size() == 3,
                                       "the children cache lists the 3 workers"));
  std::printf("  the workers' process exits\n");
  pool->Close();  // its session ends: the ephemeral nodes go
  ZK_RETURN_IF_ERROR(live.WaitUntil("the workers are gone", [](size_t n) { return n == 0; }));
  return zk_example::Claim(children_cache->Snapshot()->empty(),
                           "the children cache saw the workers leave");
}

}  // namespace

int main(int argc, char** argv) { return zk_example::RunExample(argc, argv, "caches", Run); }
