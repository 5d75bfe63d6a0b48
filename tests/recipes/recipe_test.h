// The fixture of recipe tests: BackendTest plus connected clients of their own.

#ifndef ZKCPP_TESTS_RECIPES_RECIPE_TEST_H_
#define ZKCPP_TESTS_RECIPES_RECIPE_TEST_H_

#include <chrono>
#include <memory>

#include "gtest/gtest.h"
#include "testing/backend_test.h"
#include "zk/client.h"

namespace zk::recipes::testing {

class RecipeTest : public zk::testing::BackendTest {
 protected:
  // A client connected to the backend (a failed connect fails the test and returns null).
  std::unique_ptr<Client> NewClient(
      std::chrono::milliseconds session_timeout = std::chrono::milliseconds(4000)) {
    auto client = Client::Connect({.connect_string = connect_string(),
                                   .session_timeout = session_timeout});
    EXPECT_THAT(client.status(), zk::testing::IsOk());
    if (!client.ok()) return nullptr;
    EXPECT_THAT((*client)->WaitUntilConnected(std::chrono::seconds(10)), zk::testing::IsOk());
    return *std::move(client);
  }
};

}  // namespace zk::recipes::testing

#endif  // ZKCPP_TESTS_RECIPES_RECIPE_TEST_H_
