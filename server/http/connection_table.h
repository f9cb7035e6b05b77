#ifndef LINECHANNEL_SERVER_HTTP_CONNECTION_TABLE_H_
#define LINECHANNEL_SERVER_HTTP_CONNECTION_TABLE_H_

#include <cstddef>
#include <list>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::server {

// The open connections of one HTTP server, by what each is doing, so that a full server can
// choose which connection makes room for a newcomer instead of refusing it. A flood of slow
// clients then cannot keep a prompt client (LINE) out: whoever has been slowest is closed
// first. Part of HttpServer (it moves with it). Thread-safe.
//
// Which connection is evicted, in this order:
//   1. the connection idle longest between requests (kept alive, no request started): closing
//      it costs its client only a new connection;
//   2. the connection whose current request has been incomplete longest (still arriving, from
//      the connection's accept or the request's first byte): the slowest client;
//   3. none: every connection is busy (its request is being handled or answered).
class ConnectionTable {
 public:
  // What the table can do to a connection; implemented by the server's sessions.
  class Connection {
   public:
    virtual ~Connection() = default;
    // Closes the connection without an answer. Called at most once, on the thread that
    // called EvictOne(), never with the table's lock held; must not block.
    virtual void Evict() = 0;
  };

  enum class State {
    // A request is arriving (or is owed: a new connection starts here).
    kIncomplete,
    // Between requests on a kept-alive connection.
    kIdle,
    // A request is in: being handled, or its answer is being written.
    kBusy,
  };

  // What Evict() closed.
  enum class Evicted { kNone, kIdle, kIncomplete };

  class Handle;

  ConnectionTable() = default;
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // Adds a connection in `state`. The table keeps only a weak reference; the connection must
  // call Remove() (or let its Handle go) when it closes.
  std::unique_ptr<Handle> Add(std::weak_ptr<Connection> connection, State state);

  // Moves a connection to `state`; it goes last in that state's order, so for kIncomplete the
  // order is when its request began. False if the connection has been evicted: it must then
  // close without doing more work.
  bool Set(Handle& handle, State state);

  // Evicts one connection (see the class comment for which) and says which kind it was.
  Evicted EvictOne();

  // Connections not yet removed or evicted.
  size_t open() const;

 private:
  struct Entry {
    std::weak_ptr<Connection> connection;
    State state;
    bool evicted = false;
  };
  using List = std::list<Entry>;

  void Remove(List::iterator entry);
  List& ListFor(State state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // One list per state, each in the order its entries entered it (splice keeps iterators).
  List incomplete_ ABSL_GUARDED_BY(mu_);
  List idle_ ABSL_GUARDED_BY(mu_);
  List busy_ ABSL_GUARDED_BY(mu_);
  // Evicted, until their connections close.
  List evicted_ ABSL_GUARDED_BY(mu_);

  friend class Handle;
};

// A connection's place in the table; destroying it removes the connection. Used by one
// thread at a time (the connection's own).
class ConnectionTable::Handle {
 public:
  Handle(ConnectionTable* table, List::iterator entry) : table_(table), entry_(entry) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { table_->Remove(entry_); }

 private:
  ConnectionTable* const table_;
  const List::iterator entry_;

  friend class ConnectionTable;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_HTTP_CONNECTION_TABLE_H_
