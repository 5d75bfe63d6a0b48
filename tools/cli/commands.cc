#include "cli/commands.h"

namespace zk::cli {

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec>* const commands = new std::vector<CommandSpec>{
      {.name = "ls",
       .arguments = "<path>",
       .min_args = 1,
       .max_args = 1,
       .flags = {"recursive"},
       .run = RunLs},
      {.name = "get", .arguments = "<path>", .min_args = 1, .max_args = 1, .run = RunGet},
      {.name = "set",
       .arguments = "<path> [<data>]",
       .min_args = 1,
       .max_args = 2,
       .flags = {"expected_version", "stdin"},
       .run = RunSet},
      {.name = "create",
       .arguments = "<path> [<data>]",
       .min_args = 1,
       .max_args = 2,
       .flags = {"ephemeral", "sequential", "container", "parents", "stdin"},
       .run = RunCreate},
      {.name = "rm",
       .arguments = "<path>",
       .min_args = 1,
       .max_args = 1,
       .flags = {"recursive", "expected_version"},
       .run = RunRm},
      {.name = "stat", .arguments = "<path>", .min_args = 1, .max_args = 1, .run = RunStat},
      {.name = "watch",
       .arguments = "<path>",
       .min_args = 1,
       .max_args = 1,
       .flags = {"recursive", "count"},
       .run = RunWatch},
      {.name = "lock",
       .arguments = "<path> -- <command> [<arg>...]",
       .min_args = 1,
       .max_args = 1,
       .child_command = ChildCommandUse::kRequired,
       .flags = {"wait"},
       .run = RunLock},
      {.name = "elect",
       .arguments = "<path> [-- <command> [<arg>...]]",
       .min_args = 1,
       .max_args = 1,
       .child_command = ChildCommandUse::kOptional,
       .flags = {"id", "wait", "count"},
       .run = RunElect},
      {.name = "services",
       .arguments = "<base_path> [<service>]",
       .min_args = 1,
       .max_args = 2,
       .flags = {"watch", "count"},
       .run = RunServices},
      {.name = "whoami", .run = RunWhoAmI, .engine = EngineKind::kNative},
  };
  return *commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& spec : Commands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace zk::cli
