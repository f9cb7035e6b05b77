#ifndef LINECHANNEL_SERVER_BINDING_SEALING_KEYS_H_
#define LINECHANNEL_SERVER_BINDING_SEALING_KEYS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/crypto/random_source.h"
#include "server/crypto/secret_sealer.h"
#include "storage/sealed_value_store.h"

namespace linechannel::server {

// The sealer for a server start: reads the key file, or creates it when it is absent and the
// store holds no sealed value yet (`*created` tells which). Then proves that every key the
// store uses is in the file and is the key that sealed (one value per key is opened).
// FAILED_PRECONDITION, saying which key and what to do, when the file is missing, unreadable,
// malformed or holds the wrong keys: the server must refuse to start rather than run with
// secrets it cannot open (and never falls back to plain text).
absl::StatusOr<std::unique_ptr<SecretSealer>> OpenSealer(const std::string& key_file,
                                                         storage::SealedValueStore& store,
                                                         RandomSource* random, bool* created);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_SEALING_KEYS_H_
