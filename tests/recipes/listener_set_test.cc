// Unit tests of the recipes' ListenerSet (recipes/src/listener_set.h): no server needed.

#include "listener_set.h"

#include <vector>

#include "gtest/gtest.h"
#include "zk/client.h"

namespace zk::recipes::internal {
namespace {

TEST(ListenerSetTest, CancelledSubscriptionsAreForgotten) {
  ListenerSet<int> set;
  for (int i = 0; i < 500; ++i) {
    Subscription gone = set.Add([](const int&) {});
  }  // each one destroyed at once, as a short-lived subscriber does
  EXPECT_EQ(set.size(), 0u);
  Subscription kept = set.Add([](const int&) {});
  Subscription cancelled = set.Add([](const int&) {});
  cancelled.Cancel();
  EXPECT_EQ(set.size(), 1u);
  set.Close();
  EXPECT_EQ(set.size(), 0u);
}

}  // namespace
}  // namespace zk::recipes::internal
