#include "server/crypto/key_ring.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/crypto/private_file.h"

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
        return error(
            absl::StrCat("key ", words[1], " is not ", kKeyBytes, " bytes of standard base64"));
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
  absl::StatusOr<std::string> text = ReadPrivateFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<KeyRing> ring = KeyRing::Parse(*text);
  Wipe(*text);
  if (!ring.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, ": ", ring.status().message()));
  }
  return ring;
}

absl::Status WriteKeyFile(const std::string& path, const KeyRing& ring) {
  std::string text = ring.Serialize();
  absl::Status status = ReplacePrivateFile(path, text);
  Wipe(text);
  return status;
}

absl::StatusOr<KeyRing> CreateKeyFile(const std::string& path, RandomSource& random) {
  KeyRing ring = KeyRing::Generate(random);
  // Never replace a key file: that would make every stored secret unreadable.
  std::string text = ring.Serialize();
  absl::Status status = CreatePrivateFile(path, text);
  Wipe(text);
  if (!status.ok()) return status;
  return ring;
}

}  // namespace linechannel::server
