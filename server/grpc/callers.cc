#include "server/grpc/callers.h"

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/crypto/digest.h"
#include "server/crypto/private_file.h"

namespace linechannel::server {
namespace {

constexpr size_t kTokenBytes = 32;

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

bool ValidTeam(absl::string_view team) {
  if (team.empty() || team.size() > 64) return false;
  for (char c : team) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

constexpr char kHeader[] =
    "# channeld callers: caller <name> sha256:<hash of its token> <teams, comma-separated, or *>\n"
    "# '*' may act for every team and use the admin RPCs. Tokens are never stored here.\n";

}  // namespace

// Each slot is set at most once and never changed after, so reading needs no lock (a slot is
// read on every call). Thread-safe.
class CallerList::ProvenTokens {
 public:
  explicit ProvenTokens(size_t size) : size_(size), slots_(new Slot[size]) {
    for (size_t i = 0; i < size_; ++i) slots_[i].store(nullptr, std::memory_order_relaxed);
  }
  ~ProvenTokens() {
    for (size_t i = 0; i < size_; ++i) {
      if (std::string* token = slots_[i].load(std::memory_order_relaxed)) {
        Wipe(*token);
        delete token;
      }
    }
  }
  ProvenTokens(const ProvenTokens&) = delete;
  ProvenTokens& operator=(const ProvenTokens&) = delete;

  // The token kept for caller `index`, or null.
  const std::string* Get(size_t index) const {
    return slots_[index].load(std::memory_order_acquire);
  }

  // Keeps `token` for caller `index` unless one is kept already (it can only be the same
  // token: the hashes matched).
  void Keep(size_t index, absl::string_view token) {
    auto kept = std::make_unique<std::string>(token);
    std::string* expected = nullptr;
    if (slots_[index].compare_exchange_strong(expected, kept.get(), std::memory_order_acq_rel)) {
      kept.release();
    } else {
      Wipe(*kept);
    }
  }

 private:
  using Slot = std::atomic<std::string*>;
  const size_t size_;
  const std::unique_ptr<Slot[]> slots_;
};

CallerList::CallerList() : proven_(std::make_unique<ProvenTokens>(0)) {}
CallerList::CallerList(CallerList&&) noexcept = default;
CallerList& CallerList::operator=(CallerList&&) noexcept = default;
CallerList::~CallerList() = default;

absl::StatusOr<CallerList> CallerList::Parse(absl::string_view text) {
  CallerList list;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", what));
    };
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (words.size() != 4 || words[0] != "caller") {
      return error("expected \"caller <name> sha256:<hex> <teams|*>\"");
    }
    Caller caller;
    caller.name = std::string(words[1]);
    if (!ValidName(caller.name)) return error("a caller name is 1-64 letters, digits, '-_.'");
    absl::string_view hash = words[2];
    if (!absl::ConsumePrefix(&hash, "sha256:") || hash.size() != 64 ||
        !std::all_of(hash.begin(), hash.end(),
                     [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); })) {
      return error("the token hash must be sha256: and 64 hex digits");
    }
    caller.token_sha256 = absl::HexStringToBytes(hash);
    if (words[3] == "*") {
      caller.admin = true;
    } else {
      for (absl::string_view team : absl::StrSplit(words[3], ',')) {
        if (!ValidTeam(team)) return error(absl::StrCat("\"", team, "\" is not a team id"));
        caller.teams.insert(std::string(team));
      }
    }
    for (const Caller& other : list.callers_) {
      if (other.name == caller.name) return error(absl::StrCat("caller ", caller.name, " twice"));
      if (other.token_sha256 == caller.token_sha256) {
        return error(
            absl::StrCat("callers ", other.name, " and ", caller.name, " have the same token"));
      }
    }
    list.callers_.push_back(std::move(caller));
  }
  list.proven_ = std::make_unique<ProvenTokens>(list.callers_.size());
  return list;
}

const Caller* CallerList::Authenticate(absl::string_view token) const {
  if (token.empty() || proven_ == nullptr) return nullptr;
  const Caller* found = nullptr;
  // No early exit in either loop: every entry costs the same whether it matches or not.
  for (size_t i = 0; i < callers_.size(); ++i) {
    const std::string* kept = proven_->Get(i);
    if (kept != nullptr && ConstantTimeEquals(*kept, token)) found = &callers_[i];
  }
  if (found != nullptr) return found;
  // Hashing (SHA-256, and OpenSSL's lookup of the digest) is the costliest part of admitting
  // an RPC: only a token not proven yet pays for it.
  const std::string hash = Sha256(token);
  size_t index = 0;
  for (size_t i = 0; i < callers_.size(); ++i) {
    if (ConstantTimeEquals(callers_[i].token_sha256, hash)) {
      found = &callers_[i];
      index = i;
    }
  }
  if (found != nullptr) proven_->Keep(index, token);
  return found;
}

absl::StatusOr<std::unique_ptr<CallerDirectory>> CallerDirectory::Open(const std::string& path) {
  std::unique_ptr<CallerDirectory> directory(new CallerDirectory(path));
  if (absl::Status loaded = directory->Reload(); !loaded.ok()) return loaded;
  return directory;
}

absl::Status CallerDirectory::Reload() {
  absl::StatusOr<std::string> text = ReadPrivateFile(path_);
  if (!text.ok()) return text.status();
  absl::StatusOr<CallerList> list = CallerList::Parse(*text);
  if (!list.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("callers file ", path_, ": ", list.status().message()));
  }
  std::shared_ptr<const CallerList> callers = std::make_shared<const CallerList>(*std::move(list));
  {
    absl::MutexLock lock(&mu_);
    callers_.swap(callers);
  }
  // The old list dies here, outside the lock, unless a callers() copy still holds it.
  return absl::OkStatus();
}

std::shared_ptr<const CallerList> CallerDirectory::callers() const {
  absl::ReaderMutexLock lock(&mu_);
  return callers_;
}

void CallerDirectory::WithCallers(absl::FunctionRef<void(const CallerList&)> use) const {
  absl::ReaderMutexLock lock(&mu_);
  use(*callers_);
}

absl::StatusOr<NewCaller> MakeCaller(absl::string_view name, absl::string_view teams,
                                     RandomSource& random) {
  NewCaller caller;
  caller.token = absl::WebSafeBase64Escape(random.Bytes(kTokenBytes));
  caller.line = absl::StrCat(
      "caller ", name, " sha256:", absl::BytesToHexString(Sha256(caller.token)), " ", teams, "\n");
  // Whatever the caller gave must parse back: the same rules as the file.
  absl::StatusOr<CallerList> check = CallerList::Parse(caller.line);
  if (!check.ok()) return absl::InvalidArgumentError(check.status().message());
  return caller;
}

absl::Status AppendCaller(const std::string& path, const NewCaller& caller,
                          absl::string_view name) {
  absl::StatusOr<std::string> existing = ReadPrivateFile(path);
  if (!existing.ok() && !absl::IsNotFound(existing.status())) return existing.status();
  const std::string text = existing.ok() ? *existing : kHeader;
  absl::StatusOr<CallerList> merged = CallerList::Parse(text + caller.line);
  if (!merged.ok()) {
    if (absl::StrContains(merged.status().message(), "twice")) {
      return absl::AlreadyExistsError(
          absl::StrCat("a caller named ", name, " is already in ", path));
    }
    return merged.status();
  }
  return existing.ok() ? AppendPrivateFile(path, caller.line)
                       : CreatePrivateFile(path, text + caller.line);
}

absl::Status CreateCallersFileWithAdmin(const std::string& path, const std::string& token_path,
                                        RandomSource& random) {
  absl::StatusOr<NewCaller> admin = MakeCaller("admin", "*", random);
  if (!admin.ok()) return admin.status();
  if (absl::Status created = CreatePrivateFile(path, absl::StrCat(kHeader, admin->line));
      !created.ok()) {
    return created;
  }
  absl::Status written = ReplacePrivateFile(token_path, admin->token + "\n");
  Wipe(admin->token);
  return written;
}

}  // namespace linechannel::server
