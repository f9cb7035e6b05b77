#ifndef LINECHANNEL_TESTS_INTEGRATION_SLOW_CLIENTS_H_
#define LINECHANNEL_TESTS_INTEGRATION_SLOW_CLIENTS_H_

#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::testing {

// Raises this process's open-file limit to its hard limit, or to `wanted` if that is higher and
// the process may raise the hard limit (root on a fresh CI machine may); returns the new soft
// limit. Child processes (channeld) inherit it.
rlim_t RaiseFileLimit(rlim_t wanted = 0);

// The `p` quantile (0..1) of `values`, 0 if there are none.
int64_t Percentile(std::vector<int64_t> values, double p);

// Keeps `connections` connections open to 127.0.0.1:`port`. Each sends `head` as `pace` says
// and never finishes its request; with an empty `head` it never sends a byte. When the server
// cuts one, it notes how long it lived and whether anything was answered, and opens another in
// its place after `reconnect_delay`, as an attacker would. All of it runs on one thread of its
// own. Thread-safe.
class Slowloris {
 public:
  enum class Pace {
    // One byte of `head`, then of an endless header value, every `interval`.
    kTrickle,
    // All of `head` at once (an HTTP/2 preface, say), then nothing.
    kHeadThenSilent,
  };
  struct Options {
    Pace pace = Pace::kTrickle;
    absl::Duration interval = absl::Milliseconds(200);
    absl::Duration reconnect_delay = absl::ZeroDuration();
  };
  Slowloris(int port, std::string head, int connections) : Slowloris(port, head, connections, {}) {}
  Slowloris(int port, std::string head, int connections, Options options);
  ~Slowloris();

  // Closes every connection (without counting them as cut) and stops. Idempotent.
  void Stop();

  struct Stats {
    int opened = 0;
    int connect_failures = 0;
    int cut = 0;        // Closed by the server.
    int first_cut = 0;  // Of the first `connections`, closed by the server.
    int answered = 0;   // Cut connections that received any bytes first.
    int max_open = 0;
    absl::Duration longest;  // The longest a cut connection lived.
    std::string an_answer;
  };
  Stats stats();

 private:
  struct Connection;

  // These run on the io thread (or in the constructor, before it starts).
  void Open(bool first);
  void Read(const std::shared_ptr<Connection>& connection);
  void Trickle(const std::shared_ptr<Connection>& connection);
  void Closed(const std::shared_ptr<Connection>& connection, bool by_server);

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  const boost::asio::ip::tcp::endpoint endpoint_;
  const std::string head_;
  const Options options_;
  std::unordered_set<std::shared_ptr<Connection>> open_;  // Only on the io thread.
  std::atomic<bool> stopped_{false};
  absl::Mutex mu_;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_INTEGRATION_SLOW_CLIENTS_H_
