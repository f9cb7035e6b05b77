// Fuzzes the webhook request path behind the HTTP layer, as the endpoint runs it: the
// x-line-signature gate (IsValidWebhookSignature) and then WebhookReceiver::Receive, which
// parses the body (ParseWebhookPayload), checks the destination and stores the events. The
// store is an in-memory stand-in that answers at once, so every outcome is known when
// Receive returns.
//
// Input:  flags (1 byte) | secret length (1 byte, mod 81) | secret | [signature] | body
//   flags & 0x01 == 0  the header carries the body's correct signature, computed here with
//                      WebhookSignature (half of the inputs: the parser behind the gate runs)
//   flags & 0x07 == 1  no x-line-signature header
//                 == 3  the header is taken from the input: length (1 byte, mod 64) | bytes
//                 == 5  the correct signature, then broken (a character changed, case flipped,
//                      truncated, or with a trailing space; (flags >> 3) & 3 picks which)
//                 == 7  the correct signature under another secret
//   flags & 0x40       the binding has no bot user id (bound with LINE checks off)
//   flags & 0x80       the store fails to commit
//
// Invariants: the signature is 44 characters of padded base64 and checks against its own
// body and secret, never after any change; the answer is 401 for a missing or wrong
// signature, else 400 exactly when ParseWebhookPayload refuses the body, else 403 exactly for
// another bot's destination, else 503 when the store fails and 200 with every parsed event
// handed to the store, in order; nothing reaches the store on any other answer; `done` runs
// exactly once; the answer (status and message) is the same for a binding with another
// secret and the request signed the same way, so nothing in it depends on the secret.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "server/webhook/event_notifier.h"
#include "server/crypto/secret.h"
#include "server/webhook/webhook_payload.h"
#include "server/webhook/webhook_receiver.h"
#include "server/crypto/webhook_signature.h"
#include "storage/event_store.h"
#include "tests/fuzz/fuzz_support.h"

namespace linechannel::fuzz {
namespace {

constexpr char kBotUserId[] = "U0123456789abcdef0123456789abcdef";

// Records what reaches it and answers at once, on the caller's thread.
class InstantEventStore : public storage::EventStore {
 public:
  void AppendEvents(storage::EventBatch batch, AppendDone done) override {
    batches.push_back(std::move(batch));
    if (fail) return done(absl::UnavailableError("disk I/O error (fuzz)"));
    storage::AppendResult result;
    result.stored = static_cast<int>(batches.back().events.size());
    cursor += result.stored;
    result.last_cursor = cursor;
    done(result);
  }
  absl::StatusOr<std::vector<storage::StoredEvent>> ReadEvents(
      const storage::EventQuery&) override {
    return absl::UnimplementedError("not in the fuzzer");
  }
  void RecordTrouble(int64_t, storage::WebhookTrouble, absl::Time,
                     std::function<void(absl::Status)> done) override {
    ++troubles;
    done(absl::OkStatus());
  }
  absl::StatusOr<storage::WebhookActivity> ReadActivity(int64_t) override {
    return absl::UnimplementedError("not in the fuzzer");
  }
  absl::StatusOr<int> DeleteEventsReceivedBefore(absl::Time, int) override {
    return absl::UnimplementedError("not in the fuzzer");
  }

  bool fail = false;
  std::vector<storage::EventBatch> batches;
  int troubles = 0;
  int64_t cursor = 0;
};

bool IsBase64Char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

// A signature that must not check: `correct` changed in one of four ways.
std::string Broken(std::string correct, int how, uint8_t where) {
  switch (how) {
    case 0: {
      char& c = correct[where % 43];  // Not the final '=' padding.
      c = c == 'A' ? 'B' : 'A';
      return correct;
    }
    case 1:
      for (char& c : correct) {
        if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
          c = absl::ascii_isupper(static_cast<unsigned char>(c)) ? absl::ascii_tolower(c)
                                                                 : absl::ascii_toupper(c);
          return correct;
        }
      }
      correct[0] = correct[0] == '0' ? '1' : '0';  // No letter at all: change a digit.
      return correct;
    case 2:
      correct.pop_back();
      return correct;
    default:
      return correct + " ";
  }
}

server::WebhookReceiver::Target MakeTarget(const server::Secret& secret,
                                           const std::string& bot_user_id) {
  server::WebhookReceiver::Target target;
  target.row_id = 1;
  target.binding_id = "b-fuzz";
  target.team_id = "team-fuzz";
  target.channel_id = "1656000001";
  target.bot_user_id = bot_user_id;
  target.channel_secret = secret;
  return target;
}

// Runs Receive and returns its one outcome.
server::WebhookReceiver::Outcome Receive(const server::WebhookReceiver::Target& target,
                                         const std::optional<std::string>& signature,
                                         const std::string& body, InstantEventStore& store,
                                         server::EventNotifier& notifier) {
  const server::FakeClock clock{absl::FromUnixSeconds(1700000000)};
  server::WebhookReceiver receiver(/*bindings=*/nullptr, &store, /*sealer=*/nullptr, &clock,
                                   &notifier, /*secret_memo_size=*/0);
  std::optional<absl::string_view> header;
  if (signature.has_value()) header = *signature;
  int calls = 0;
  server::WebhookReceiver::Outcome outcome;
  receiver.Receive(target, header, body, [&](server::WebhookReceiver::Outcome o) {
    ++calls;
    outcome = std::move(o);
  });
  if (calls != 1) Fail("Receive answered %d times", calls);
  return outcome;
}

}  // namespace
}  // namespace linechannel::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  linechannel::fuzz::SilenceServerLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linechannel;
  using fuzz::Fail;
  fuzz::InputReader in(data, size);
  const uint8_t flags = in.Byte();
  const server::Secret secret(in.Bytes(in.Byte() % 81));

  const int mode = flags & 0x07;
  std::string header_from_input;
  uint8_t where = 0;
  if (mode == 3) header_from_input = in.Bytes(in.Byte() % 64);
  if (mode == 5) where = in.Byte();
  const std::string body = in.Rest();

  const std::string correct = server::WebhookSignature(secret, body);
  FUZZ_CHECK(correct.size() == 44);
  FUZZ_CHECK(correct.back() == '=');
  for (size_t i = 0; i < 43; ++i) FUZZ_CHECK(fuzz::IsBase64Char(correct[i]));
  FUZZ_CHECK(server::IsValidWebhookSignature(secret, body, correct));

  // The x-line-signature header, if any, and whether it must check.
  std::optional<std::string> signature;
  bool must_check = false;
  switch (mode) {
    case 1:
      break;
    case 3:
      signature = header_from_input;
      must_check = header_from_input == correct;
      break;
    case 5:
      signature = fuzz::Broken(correct, (flags >> 3) & 3, where);
      break;
    case 7: {
      // Another secret; not `secret` with zero bytes appended, which HMAC pads to the same key.
      std::string other = secret.Reveal();
      if (other.empty()) {
        other = "k";
      } else {
        other[0] = static_cast<char>(other[0] ^ 0x01);
      }
      signature = server::WebhookSignature(server::Secret(other), body);
      break;
    }
    default:
      signature = correct;
      must_check = true;
  }
  if (signature.has_value()) {
    const bool checks = server::IsValidWebhookSignature(secret, body, *signature);
    if (checks != must_check) {
      Fail("signature \"%s\" %s for a body of %zu bytes", signature->c_str(),
           checks ? "checks but must not" : "does not check but must", body.size());
    }
  }

  // The receiver, as the endpoint calls it once the binding is resolved and the body read.
  fuzz::InstantEventStore store;
  store.fail = (flags & 0x80) != 0;
  const server::WebhookReceiver::Target target =
      fuzz::MakeTarget(secret, (flags & 0x40) != 0 ? "" : fuzz::kBotUserId);
  server::EventNotifier notifier;
  const server::WebhookReceiver::Outcome outcome =
      fuzz::Receive(target, signature, body, store, notifier);

  // The same request for a binding with another secret, signed the same way (correctly or
  // not), must get the same answer: nothing in it may depend on the secret's value.
  if (!secret.empty()) {
    std::string other = secret.Reveal();
    for (char& c : other) c = static_cast<char>(c ^ 0x02);  // Not case 7's other secret.
    const server::Secret other_secret(other);
    std::optional<std::string> other_signature = signature;
    if (must_check) {
      other_signature = server::WebhookSignature(other_secret, body);
    }
    fuzz::InstantEventStore other_store;
    other_store.fail = store.fail;
    server::EventNotifier other_notifier;
    const server::WebhookReceiver::Outcome other_outcome =
        fuzz::Receive(fuzz::MakeTarget(other_secret, target.bot_user_id), other_signature, body,
                      other_store, other_notifier);
    if (other_outcome.http_status != outcome.http_status ||
        other_outcome.message != outcome.message) {
      Fail("the answer depends on the channel secret: %d \"%s\" vs %d \"%s\"", outcome.http_status,
           outcome.message.c_str(), other_outcome.http_status, other_outcome.message.c_str());
    }
  }

  // What the answer must be, from the same building blocks.
  if (!must_check) {  // Only a present, correct signature checks.
    FUZZ_CHECK(outcome.http_status == 401);
    FUZZ_CHECK(store.batches.empty());
    return 0;
  }
  absl::StatusOr<server::WebhookPayload> payload = server::ParseWebhookPayload(body);
  if (!payload.ok()) {
    FUZZ_CHECK(outcome.http_status == 400);
    FUZZ_CHECK(outcome.message == payload.status().message());
    FUZZ_CHECK(store.batches.empty());
    FUZZ_CHECK(store.troubles == 0);
    return 0;
  }
  if (!target.bot_user_id.empty() && payload->destination != target.bot_user_id) {
    FUZZ_CHECK(outcome.http_status == 403);
    FUZZ_CHECK(store.batches.empty());
    return 0;
  }
  if (outcome.http_status != (store.fail ? 503 : 200)) {
    Fail("a correctly signed LINE body got %d (%s)", outcome.http_status, outcome.message.c_str());
  }
  FUZZ_CHECK(store.batches.size() == 1);
  const storage::EventBatch& batch = store.batches[0];
  FUZZ_CHECK(batch.binding_row_id == target.row_id);
  FUZZ_CHECK(batch.team_id == target.team_id);
  FUZZ_CHECK(batch.channel_id == target.channel_id);
  FUZZ_CHECK(batch.events.size() == payload->events.size());
  for (size_t i = 0; i < batch.events.size(); ++i) {
    FUZZ_CHECK(batch.events[i].raw_json == payload->events[i].raw_json);
    FUZZ_CHECK(batch.events[i].webhook_event_id == payload->events[i].webhook_event_id);
    FUZZ_CHECK(batch.events[i].type == payload->events[i].type);
    FUZZ_CHECK(batch.events[i].timestamp_ms == payload->events[i].timestamp_ms);
  }
  if (!store.fail) {
    FUZZ_CHECK(outcome.stored == static_cast<int>(payload->events.size()));
    FUZZ_CHECK(outcome.duplicates == 0);
    FUZZ_CHECK(notifier.last_cursor() == store.cursor);
  }
  return 0;
}
