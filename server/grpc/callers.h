#ifndef LINECHANNEL_SERVER_GRPC_CALLERS_H_
#define LINECHANNEL_SERVER_GRPC_CALLERS_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/crypto/random_source.h"

namespace linechannel::server {

// Who may call the API: each caller has a name (written in audit rows and logs), the SHA-256
// of its bearer token, and the teams it may act for ("*": every team, and the admin RPCs).
//
// The callers file is text, one caller per line, '#' starts a comment:
//   caller <name> sha256:<64 hex> <team,team,...|*>
// Only hashes are stored: the file gives nobody a token.
struct Caller {
  std::string name;
  std::string token_sha256;  // 32 raw bytes.
  bool admin = false;        // "*": every team, and the admin RPCs.
  std::set<std::string, std::less<>> teams;

  bool MayActFor(absl::string_view team_id) const { return admin || teams.count(team_id) != 0; }
};

// An immutable set of callers. Thread-safe.
class CallerList {
 public:
  CallerList();
  CallerList(CallerList&&) noexcept;
  CallerList& operator=(CallerList&&) noexcept;
  ~CallerList();

  // INVALID_ARGUMENT naming the line for a malformed entry or a duplicate name or token.
  static absl::StatusOr<CallerList> Parse(absl::string_view text);

  // The caller whose token this is, or null. The first time a token is seen it is hashed and
  // the hash compared with every caller's; a token that proves to be a caller's is then kept
  // with the list (in memory only, wiped when the list dies), and later calls compare the
  // token with every kept token instead of hashing it again. Either way every comparison
  // takes constant time and every entry is looked at, so timing tells nothing of the tokens.
  // A reloaded list keeps no token of the old one: a caller removed from the file, or given a
  // new token, stops working with the reload.
  const Caller* Authenticate(absl::string_view token) const;

  size_t size() const { return callers_.size(); }

 private:
  class ProvenTokens;

  std::vector<Caller> callers_;
  // By caller index: the token that proved to be the caller's, once one has.
  std::unique_ptr<ProvenTokens> proven_;
};

// The callers file of a running server: read at start, re-read on demand (SIGHUP) without
// dropping the old list if the new one is malformed. Thread-safe.
class CallerDirectory {
 public:
  // Reads `path`. NOT_FOUND if absent; INVALID_ARGUMENT (with the path) if malformed.
  static absl::StatusOr<std::unique_ptr<CallerDirectory>> Open(const std::string& path);

  // Re-reads the file; on error keeps the current list and returns the error.
  absl::Status Reload();

  std::shared_ptr<const CallerList> callers() const;

  // Runs `use` with the current list, under a shared lock so that no reload replaces it
  // meanwhile: for the check of every RPC, which would otherwise contend for the lock and the
  // list's reference count with every other RPC. `use` must be quick and keep nothing of it.
  void WithCallers(absl::FunctionRef<void(const CallerList&)> use) const;
  const std::string& path() const { return path_; }

 private:
  explicit CallerDirectory(std::string path) : path_(std::move(path)) {}
  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const CallerList> callers_ ABSL_GUARDED_BY(mu_);
};

// A new random token (32 bytes, URL-safe base64) and the callers-file line for it.
struct NewCaller {
  std::string token;
  std::string line;
};
absl::StatusOr<NewCaller> MakeCaller(absl::string_view name, absl::string_view teams,
                                     RandomSource& random);

// Appends a caller line to the callers file (creating it with mode 0600 if absent).
// ALREADY_EXISTS if a caller of that name is already in the file.
absl::Status AppendCaller(const std::string& path, const NewCaller& caller, absl::string_view name);

// First start: creates the callers file with one admin caller and writes its token to
// `token_path` (mode 0600), so the embedded default needs no set-up. Returns the token path.
// ALREADY_EXISTS if the callers file exists.
absl::Status CreateCallersFileWithAdmin(const std::string& path, const std::string& token_path,
                                        RandomSource& random);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_CALLERS_H_
