#include "server/key_ring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace linechannel::server {
namespace {

bool ValidKeyId(absl::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string NewKeyId(RandomSource& random) {
  return absl::StrCat("k", absl::BytesToHexString(random.Bytes(4)));
}

absl::Status ErrnoStatus(absl::string_view what, const std::string& path) {
  const int err = errno;
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  if (err == EEXIST) return absl::AlreadyExistsError(message);
  return absl::UnavailableError(message);
}

// Writes all of `data` to `fd` and makes it durable.
absl::Status WriteAndSync(int fd, const std::string& data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing", path);
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return ErrnoStatus("syncing", path);
  return absl::OkStatus();
}

}  // namespace

KeyRing KeyRing::Generate(RandomSource& random) {
  KeyRing ring;
  ring.current_id_ = ring.AddGenerated(random);
  return ring;
}

absl::StatusOr<KeyRing> KeyRing::Parse(absl::string_view text) {
  KeyRing ring;
  std::string current;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    const auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", what));
    };
    if (words[0] == "key") {
      if (words.size() != 3) return error("expected \"key <id> <base64 key>\"");
      if (!ValidKeyId(words[1])) return error("a key id is 1-32 letters, digits, '-' or '_'");
      std::string bytes;
      if (!absl::Base64Unescape(words[2], &bytes) || bytes.size() != kKeyBytes) {
        return error(absl::StrCat("key ", words[1], " is not ", kKeyBytes,
                                  " bytes of standard base64"));
      }
      if (!ring.keys_.emplace(std::string(words[1]), Secret(std::move(bytes))).second) {
        return error(absl::StrCat("key ", words[1], " appears twice"));
      }
    } else if (words[0] == "current") {
      if (words.size() != 2) return error("expected \"current <id>\"");
      if (!current.empty()) return error("\"current\" appears twice");
      current = std::string(words[1]);
    } else {
      return error(absl::StrCat("unknown entry \"", words[0], "\""));
    }
  }
  if (ring.keys_.empty()) return absl::InvalidArgumentError("the file holds no key");
  if (current.empty()) return absl::InvalidArgumentError("no \"current <id>\" line");
  if (ring.Find(current) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("current key ", current, " is not in the file"));
  }
  ring.current_id_ = std::move(current);
  return ring;
}

std::string KeyRing::Serialize() const {
  std::string text =
      "# channeld sealing keys. Without this file the stored channel secrets and access tokens\n"
      "# cannot be read: keep it private (mode 0600) and back it up apart from the database.\n";
  for (const auto& [id, key] : keys_) {
    absl::StrAppend(&text, "key ", id, " ", absl::Base64Escape(key.Reveal()), "\n");
  }
  absl::StrAppend(&text, "current ", current_id_, "\n");
  return text;
}

const Secret* KeyRing::Find(absl::string_view id) const {
  const auto it = keys_.find(id);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<std::string> KeyRing::ids() const {
  std::vector<std::string> ids;
  for (const auto& entry : keys_) ids.push_back(entry.first);
  return ids;
}

std::string KeyRing::AddGenerated(RandomSource& random) {
  std::string id;
  do {
    id = NewKeyId(random);
  } while (keys_.count(id) != 0);
  keys_.emplace(id, Secret(random.Bytes(kKeyBytes)));
  return id;
}

absl::Status KeyRing::MakeCurrent(absl::string_view id) {
  if (Find(id) == nullptr) return absl::NotFoundError(absl::StrCat("no key ", id));
  current_id_ = std::string(id);
  return absl::OkStatus();
}

absl::Status KeyRing::Remove(absl::string_view id) {
  const auto it = keys_.find(id);
  if (it == keys_.end()) return absl::NotFoundError(absl::StrCat("no key ", id));
  if (id == current_id_) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", id, " is current; make another key current first"));
  }
  keys_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<KeyRing> ReadKeyFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening key file", path);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoStatus("reading key file", path);
      close(fd);
      return status;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (!ring.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, ": ", ring.status().message()));
  }
  return ring;
}

absl::Status WriteKeyFile(const std::string& path, const KeyRing& ring) {
  const std::string temp = path + ".tmp";
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("creating", temp);
  std::string text = ring.Serialize();
  absl::Status status = WriteAndSync(fd, text, temp);
  OPENSSL_cleanse(text.data(), text.size());
  close(fd);
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("renaming to", path);
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

absl::StatusOr<KeyRing> CreateKeyFile(const std::string& path, RandomSource& random) {
  KeyRing ring = KeyRing::Generate(random);
  // O_EXCL: never replace a key file, which would make every stored secret unreadable.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("creating key file", path);
  std::string text = ring.Serialize();
  absl::Status status = WriteAndSync(fd, text, path);
  OPENSSL_cleanse(text.data(), text.size());
  close(fd);
  if (!status.ok()) {
    unlink(path.c_str());
    return status;
  }
  return ring;
}

}  // namespace linechannel::server
