#include "server/binding/sealing_keys.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/crypto/sealing_contexts.h"

namespace linechannel::server {
namespace {

absl::Status Refuse(absl::string_view message) { return absl::FailedPreconditionError(message); }

}  // namespace

absl::StatusOr<std::unique_ptr<SecretSealer>> OpenSealer(const std::string& key_file,
                                                         storage::SealedValueStore& store,
                                                         RandomSource* random, bool* created) {
  *created = false;
  absl::StatusOr<std::vector<storage::SealedSample>> samples = store.SampleSealedValues();
  if (!samples.ok()) return samples.status();

  absl::StatusOr<KeyRing> keys = ReadKeyFile(key_file);
  if (absl::IsNotFound(keys.status())) {
    if (!samples->empty()) {
      std::vector<std::string> ids;
      for (const auto& s : *samples) ids.push_back(s.value.key_id);
      return Refuse(absl::StrCat(
          "key file ", key_file, " is missing, but the database holds secrets sealed with key(s) ",
          absl::StrJoin(ids, ", "),
          ": restore the key file from backup (a new key cannot open them)"));
    }
    keys = CreateKeyFile(key_file, *random);
    if (!keys.ok()) return keys.status();
    *created = true;
  } else if (!keys.ok()) {
    return Refuse(keys.status().message());
  }

  struct stat info;
  if (stat(key_file.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    return Refuse(absl::StrCat("key file ", key_file, " is readable by other users (mode ",
                               absl::StrFormat("%03o", info.st_mode & 0777), "); run: chmod 600 ",
                               key_file));
  }

  auto sealer = std::make_unique<SecretSealer>(*std::move(keys), random);
  // Replicas share the key file: one's rotation must reach the others.
  sealer->FollowKeyFile(key_file);
  for (const storage::SealedSample& sample : *samples) {
    const std::string context = sample.field == "channel_secret" ? SecretContext(sample.channel_id)
                                                                 : TokenContext(sample.channel_id);
    absl::StatusOr<Secret> opened = sealer->Unseal(sample.value, context);
    if (!opened.ok()) {
      return Refuse(absl::StrCat("key file ", key_file,
                                 " does not fit the database: ", opened.status().message()));
    }
  }
  return sealer;
}

}  // namespace linechannel::server
