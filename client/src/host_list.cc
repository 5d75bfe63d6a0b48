#include "host_list.h"

#include <netdb.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "string_util.h"

namespace zk::internal {

absl::StatusOr<std::vector<HostPort>> ParseHosts(std::string_view connect_string) {
  std::vector<HostPort> hosts;
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(connect_string.data(), connect_string.size()), ',')) {
    HostPort host;
    std::string_view rest(entry.data(), entry.size());
    if (!rest.empty() && rest.front() == '[') {  // [v6]:port
      const size_t close = rest.find(']');
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(
            StrCat("connect ", connect_string, ": \"", rest, "\" lacks its closing ']'"));
      }
      host.host = std::string(rest.substr(1, close - 1));
      rest = rest.substr(close + 1);
      if (!rest.empty() && rest.front() != ':') {
        return absl::InvalidArgumentError(
            StrCat("connect ", connect_string, ": unexpected text after ']' in \"", entry, "\""));
      }
      host.port = rest.empty() ? "2181" : std::string(rest.substr(1));
    } else {
      const size_t colon = rest.rfind(':');
      host.host = std::string(rest.substr(0, colon));
      host.port = colon == std::string_view::npos ? "2181" : std::string(rest.substr(colon + 1));
    }
    int port = 0;
    if (host.host.empty()) {
      return absl::InvalidArgumentError(
          StrCat("connect ", connect_string, ": empty host in \"", entry, "\""));
    }
    if (!absl::SimpleAtoi(host.port, &port) || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(
          StrCat("connect ", connect_string, ": bad port in \"", entry, "\""));
    }
    hosts.push_back(std::move(host));
  }
  return hosts;
}

HostList::HostList(std::vector<HostPort> hosts, std::optional<absl::Duration> resolution_interval)
    : hosts_(std::move(hosts)),
      resolution_interval_(resolution_interval),
      random_(std::random_device{}()) {}

absl::Status HostList::Resolve() {
  std::vector<Address> addresses;
  std::string errors;
  for (const HostPort& host : hosts_) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    const int rc = getaddrinfo(host.host.c_str(), host.port.c_str(), &hints, &result);
    if (rc != 0) {
      StrAppend(&errors, errors.empty() ? "" : "; ", host.host, ": ", gai_strerror(rc));
      continue;
    }
    for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
      Address address;
      std::memcpy(&address.storage, ai->ai_addr, ai->ai_addrlen);
      address.length = ai->ai_addrlen;
      address.host = host.host;
      address.name = ai->ai_family == AF_INET6 ? StrCat("[", host.host, "]:", host.port)
                                               : StrCat(host.host, ":", host.port);
      addresses.push_back(std::move(address));
    }
    freeaddrinfo(result);
  }
  resolved_at_ = absl::Now();
  if (addresses.empty()) {
    return absl::UnavailableError(StrCat("no host resolves (", errors, ")"));
  }
  // A random order spreads the clients of an ensemble over its members.
  std::shuffle(addresses.begin(), addresses.end(), random_);
  addresses_ = std::move(addresses);
  position_ = 0;
  return absl::OkStatus();
}

const Address* HostList::Next() {
  if (RoundDone()) {
    const bool due = addresses_.empty() || !resolution_interval_ ||
                     absl::Now() - resolved_at_ >= *resolution_interval_;
    if (!due || !Resolve().ok()) position_ = 0;
  }
  if (addresses_.empty()) return nullptr;
  return &addresses_[position_++ % addresses_.size()];
}

}  // namespace zk::internal
