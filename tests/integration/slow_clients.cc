#include "tests/integration/slow_clients.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace linechannel::testing {

rlim_t RaiseFileLimit(rlim_t wanted) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  if (files.rlim_max != RLIM_INFINITY && files.rlim_max < wanted) {
    const rlimit higher{wanted, wanted};
    if (setrlimit(RLIMIT_NOFILE, &higher) == 0) files = higher;
  }
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) getrlimit(RLIMIT_NOFILE, &files);
  }
  return files.rlim_cur;
}

int64_t Percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

struct Slowloris::Connection {
  explicit Connection(boost::asio::io_context& io) : socket(io), timer(io) {}
  boost::asio::ip::tcp::socket socket;
  boost::asio::steady_timer timer;
  size_t sent = 0;
  bool first = false;
  bool connected = false;
  absl::Time opened;
  std::string received;
  char buffer[512];
};

Slowloris::Slowloris(int port, std::string head, int connections, Options options)
    : endpoint_(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      head_(std::move(head)),
      options_(options) {
  for (int i = 0; i < connections; ++i) Open(/*first=*/true);
  thread_ = std::thread([this] { io_.run(); });
}

Slowloris::~Slowloris() { Stop(); }

void Slowloris::Stop() {
  if (stopped_.exchange(true)) return;
  boost::asio::post(io_, [this] {
    for (const auto& connection : open_) {
      boost::system::error_code ignored;
      connection->socket.close(ignored);
      connection->timer.cancel();
    }
    // Reconnect timers may be pending: drop them rather than wait them out.
    io_.stop();
  });
  work_.reset();
  thread_.join();
}

Slowloris::Stats Slowloris::stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void Slowloris::Open(bool first) {
  auto connection = std::make_shared<Connection>(io_);
  connection->first = first;
  open_.insert(connection);
  connection->socket.async_connect(endpoint_, [this, connection](boost::system::error_code ec) {
    if (ec) {
      Closed(connection, /*by_server=*/false);
      absl::MutexLock lock(&mu_);
      ++stats_.connect_failures;
      return;
    }
    connection->connected = true;
    connection->opened = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      ++stats_.opened;
      stats_.max_open = std::max(stats_.max_open, static_cast<int>(open_.size()));
    }
    Read(connection);
    if (head_.empty()) return;
    if (options_.pace == Pace::kTrickle) return Trickle(connection);
    boost::asio::async_write(connection->socket, boost::asio::buffer(head_),
                             [connection](boost::system::error_code, size_t) {});
  });
}

void Slowloris::Read(const std::shared_ptr<Connection>& connection) {
  connection->socket.async_read_some(boost::asio::buffer(connection->buffer),
                                     [this, connection](boost::system::error_code ec, size_t n) {
                                       if (!ec) {
                                         connection->received.append(connection->buffer, n);
                                         return Read(connection);
                                       }
                                       if (ec == boost::asio::error::operation_aborted || stopped_)
                                         return;
                                       Closed(connection, /*by_server=*/true);
                                     });
}

void Slowloris::Trickle(const std::shared_ptr<Connection>& connection) {
  // The head first, then an endless header value, one byte at a time.
  const char byte = connection->sent < head_.size() ? head_[connection->sent] : 'a';
  auto data = std::make_shared<char>(byte);
  boost::asio::async_write(
      connection->socket, boost::asio::buffer(data.get(), 1),
      [this, connection, data](boost::system::error_code ec, size_t) {
        if (ec) return;  // The server cut us; the read side notices.
        ++connection->sent;
        connection->timer.expires_after(absl::ToChronoNanoseconds(options_.interval));
        connection->timer.async_wait([this, connection](boost::system::error_code ec) {
          if (!ec && connection->socket.is_open()) Trickle(connection);
        });
      });
}

void Slowloris::Closed(const std::shared_ptr<Connection>& connection, bool by_server) {
  boost::system::error_code ignored;
  connection->socket.close(ignored);
  connection->timer.cancel();
  open_.erase(connection);
  if (by_server) {
    absl::MutexLock lock(&mu_);
    ++stats_.cut;
    if (connection->first) ++stats_.first_cut;
    if (!connection->received.empty()) {
      ++stats_.answered;
      stats_.an_answer = connection->received.substr(0, 100);
    }
    stats_.longest = std::max(stats_.longest, absl::Now() - connection->opened);
  }
  if (stopped_) return;
  if (options_.reconnect_delay <= absl::ZeroDuration()) return Open(/*first=*/false);
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  timer->expires_after(absl::ToChronoNanoseconds(options_.reconnect_delay));
  timer->async_wait([this, timer](boost::system::error_code ec) {
    if (!ec && !stopped_) Open(/*first=*/false);
  });
}

}  // namespace linechannel::testing
