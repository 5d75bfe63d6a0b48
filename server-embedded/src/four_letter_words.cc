#include "four_letter_words.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace zk::testing::internal {
namespace {

constexpr char kVersion[] = "3.8.0-zkcpp-embedded, built on 1970-01-01 00:00 UTC";

constexpr std::array<std::string_view, 19> kKnownWords = {
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "srst", "srvr",
    "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash", "stmk", "ruok"};

std::string Mode(const ZooKeeperService& service, const FourLetterContext& context) {
  if (service.read_only()) return "read-only";
  if (context.members == 1) return "standalone";
  return context.member == 0 ? "leader" : "follower";
}

std::string ConnectionLines(const ZooKeeperService& service, bool detailed) {
  std::string out;
  for (const auto& [id, state] : service.connections()) {
    absl::StrAppend(&out, " /", state.ip, ":", state.port, "[1](queued=0,recved=",
                    state.packets_received, ",sent=", state.packets_sent);
    if (detailed && state.session_id != 0) {
      absl::StrAppend(&out, absl::StrFormat(",sid=0x%x,lop=%s,est=%d,to=%d,lcxid=0x%x,"
                                            "lzxid=0x%x,lresp=0,llat=0,minlat=0,avglat=0,"
                                            "maxlat=0",
                                            state.session_id, state.last_op, state.established_ms,
                                            0, state.last_xid, state.last_zxid));
    }
    absl::StrAppend(&out, ")\n");
  }
  return out;
}

std::string SrvrBody(const ZooKeeperService& service, const FourLetterContext& context) {
  return absl::StrCat("Latency min/avg/max: 0/0.0/0\n", "Received: ", service.packets_received(),
                      "\n", "Sent: ", service.packets_sent(), "\n",
                      "Connections: ", service.connections().size(), "\n", "Outstanding: 0\n",
                      absl::StrFormat("Zxid: 0x%x\n", service.zxid()),
                      "Mode: ", Mode(service, context), "\n",
                      "Node count: ", service.tree().node_count(), "\n");
}

}  // namespace

bool FourLetterWordEnabled(std::string_view word, const std::vector<std::string>& whitelist,
                           bool read_only_enabled) {
  if (word == "isro" && read_only_enabled) return true;
  for (const std::string& allowed : whitelist) {
    if (allowed == "*" || allowed == word) return true;
  }
  return false;
}

std::string FourLetterWordRefusal(std::string_view word) {
  return absl::StrCat(absl::string_view(word.data(), word.size()),
                      " is not executed because it is not in the whitelist.\n");
}

std::optional<std::string> AsFourLetterWord(int32_t first_int) {
  uint32_t v = static_cast<uint32_t>(first_int);
  std::string word;
  for (int shift = 24; shift >= 0; shift -= 8) word.push_back(static_cast<char>((v >> shift) & 0xff));
  for (std::string_view known : kKnownWords) {
    if (word == known) return word;
  }
  return std::nullopt;
}

std::string RunFourLetterWord(std::string_view word, const ZooKeeperService& service,
                              const FourLetterContext& context) {
  const ServiceOptions& options = service.options();
  if (word == "ruok") return "imok";
  if (word == "isro") return service.read_only() ? "ro" : "rw";
  if (word == "srvr") {
    return absl::StrCat("Zookeeper version: ", kVersion, "\n", SrvrBody(service, context));
  }
  if (word == "stat") {
    return absl::StrCat("Zookeeper version: ", kVersion, "\n", "Clients:\n",
                        ConnectionLines(service, false), "\n", SrvrBody(service, context));
  }
  if (word == "cons") return absl::StrCat(ConnectionLines(service, true), "\n");
  if (word == "conf") {
    return absl::StrCat("clientPort=", context.client_port, "\n", "secureClientPort=-1\n",
                        "dataDir=/dev/null\n", "dataDirSize=0\n", "dataLogDir=/dev/null\n",
                        "dataLogSize=0\n", "tickTime=", options.tick_ms, "\n",
                        "maxClientCnxns=0\n", "minSessionTimeout=", options.min_session_timeout_ms,
                        "\n", "maxSessionTimeout=", options.max_session_timeout_ms, "\n",
                        "clientPortListenBacklog=-1\n", "serverId=", context.member, "\n");
  }
  if (word == "envi") {
    return absl::StrCat("Environment:\n", "zookeeper.version=", kVersion, "\n",
                        "host.name=localhost\n", "java.version=17\n",
                        "java.vendor=zkcpp embedded server\n", "os.name=Linux\n");
  }
  if (word == "wchs") {
    const WatchManager& watches = service.watches();
    return absl::StrCat(watches.data_watch_connections(), " connections watching ",
                        watches.data_watch_paths(), " paths\nTotal watches:",
                        watches.data_watch_count(), "\n");
  }
  if (word == "mntr") {
    int64_t ephemerals = 0;
    for (const auto& [sid, paths] : service.tree().ephemerals()) ephemerals += paths.size();
    return absl::StrCat(
        "zk_version\t", kVersion, "\n", "zk_server_state\t", Mode(service, context), "\n",
        "zk_avg_latency\t0.0\n", "zk_max_latency\t0\n", "zk_min_latency\t0\n",
        "zk_packets_received\t", service.packets_received(), "\n", "zk_packets_sent\t",
        service.packets_sent(), "\n", "zk_num_alive_connections\t",
        service.connections().size(), "\n", "zk_outstanding_requests\t0\n",
        "zk_znode_count\t", service.tree().node_count(), "\n", "zk_watch_count\t",
        service.watches().total_watch_count(), "\n", "zk_ephemerals_count\t", ephemerals, "\n",
        "zk_approximate_data_size\t", service.tree().approximate_data_size(), "\n",
        "zk_open_file_descriptor_count\t0\n", "zk_max_file_descriptor_count\t0\n",
        "zk_global_sessions\t", service.sessions().sessions().size(), "\n");
  }
  if (word == "dump") {
    std::string out = absl::StrCat("SessionTracker dump:\nSession Sets (",
                                   service.sessions().sessions().size(), ")/(",
                                   service.sessions().sessions().size(), "):\n");
    for (const auto& [id, session] : service.sessions().sessions()) {
      absl::StrAppend(&out, "1 expire at ", session.expire_at_ms, ":\n",
                      absl::StrFormat("\t0x%x\n", id));
    }
    const auto& ephemerals = service.tree().ephemerals();
    absl::StrAppend(&out, "ephemeral nodes dump:\nSessions with Ephemerals (", ephemerals.size(),
                    "):\n");
    for (const auto& [sid, paths] : ephemerals) {
      absl::StrAppend(&out, absl::StrFormat("0x%x:\n", sid));
      for (const std::string& path : paths) absl::StrAppend(&out, "\t", path, "\n");
    }
    absl::StrAppend(&out, "Connections dump:\n");
    return out;
  }
  return absl::StrCat(std::string(word), " is not executed because it is not in the whitelist.\n");
}

}  // namespace zk::testing::internal
