// Unit tests of the pieces behind fake_line's outbound API: content bytes, message checks,
// the frozen clock, the outbox's retry keys and quota, chat-mode rules.
#include <simdjson.h>

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tools/fake_line/channel.h"
#include "tools/fake_line/clock.h"
#include "tools/fake_line/content_bytes.h"
#include "tools/fake_line/event_factory.h"
#include "tools/fake_line/fixture.h"
#include "tools/fake_line/message_checks.h"
#include "tools/fake_line/outbox.h"

namespace linechannel::fake_line {
namespace {

std::string Fill(const std::string& id, uint64_t offset, size_t size) {
  std::string out(size, '\0');
  FillContent(id, "video", "", offset, size, out.data());
  return out;
}

TEST(ContentBytesTest, AnyPieceMatchesTheWhole) {
  const std::string whole = Fill("123", 0, 1000);
  EXPECT_EQ(whole.substr(4, 8), "ftypmp42");
  // Pieces at odd offsets and sizes, as a 64 KiB writer would cut a longer body.
  for (uint64_t offset : {0, 1, 7, 8, 11, 12, 13, 500, 993}) {
    for (size_t size : {1, 3, 8, 9, 64}) {
      if (offset + size > whole.size()) continue;
      EXPECT_EQ(Fill("123", offset, size), whole.substr(offset, size)) << offset << "+" << size;
    }
  }
  EXPECT_NE(Fill("124", 0, 1000), whole);
  EXPECT_EQ(ContentTypeOf("file", "a.PDF"), "application/pdf");
  EXPECT_EQ(ContentTypeOf("file", "a.bin"), "application/octet-stream");
  EXPECT_EQ(ContentTypeOf("image", ""), "image/jpeg");
}

TEST(ContentBytesTest, StreamCoversTheItem) {
  MediaItem item;
  item.message_id = "9";
  item.message_type = "image";
  item.size = 70000;
  auto stream = ContentStream(item);
  EXPECT_EQ(stream->length, 70000u);
  std::string piece(16, '\0');
  stream->fill(0, 16, piece.data());
  EXPECT_EQ(piece.substr(0, 3), "\xFF\xD8\xFF");
}

std::optional<BodyProblem> Check(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element element = parser.parse(json).value();
  return CheckMessages(element);
}

TEST(MessageChecksTest, FollowsLinesRules) {
  EXPECT_FALSE(Check(R"([{"type":"text","text":"hi"}])").has_value());
  EXPECT_FALSE(Check(R"([{"type":"sticker","packageId":"1","stickerId":"2"}])").has_value());
  EXPECT_EQ(Check("[]")->property, "messages");
  EXPECT_EQ(Check("{}")->property, "messages");
  EXPECT_EQ(Check(R"([1])")->property, "messages[0]");
  EXPECT_EQ(Check(R"([{"text":"x"}])")->property, "messages[0].type");
  EXPECT_EQ(Check(R"([{"type":"sticker","packageId":"1"}])")->property, "messages[0].stickerId");
  EXPECT_EQ(Check(R"([{"type":"text","text":""}])")->property, "messages[0].text");
  EXPECT_EQ(Utf16Length("a\u3042\U0001F363"), 4);
  EXPECT_TRUE(IsChatId("U0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(IsChatId("R0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(IsChatId("U0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(IsChatId("U0123456789abcdef0123456789abcde"));
  EXPECT_TRUE(IsRetryKey("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(IsRetryKey("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(IsRetryKey("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(IsRetryKey("123e4567-e89b-12d3-a456-42661417400g"));
}

TEST(FakeClockTest, FrozenClockMovesOnlyWhenAdvanced) {
  FakeClock clock;
  clock.SetFrozen(true);
  const absl::Time frozen = clock.Now();
  EXPECT_EQ(clock.Now(), frozen);
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), frozen + absl::Seconds(5));
  clock.SetFrozen(false);
  EXPECT_GE(clock.Now(), frozen + absl::Seconds(5));
  EXPECT_FALSE(clock.frozen());
}

TEST(OutboxTest, RetryKeyAndQuotaAreAtomicPerChannel) {
  FakeClock clock;
  clock.SetFrozen(true);
  Outbox outbox(&clock);
  MessagingSettings settings;
  settings.message_quota = 1;
  outbox.SetSettings("a", settings);
  SentRecord record;
  record.kind = "push";
  record.retry_key = "k";
  record.request_id = "r1";
  EXPECT_EQ(outbox.Push("a", record, 1).result, PushOutcome::Result::kAccepted);
  record.request_id = "r2";
  const PushOutcome again = outbox.Push("a", record, 1);
  EXPECT_EQ(again.result, PushOutcome::Result::kDuplicate);
  EXPECT_EQ(again.accepted_request_id, "r1");
  record.retry_key = "";
  EXPECT_EQ(outbox.Push("a", record, 1).result, PushOutcome::Result::kOverQuota);
  EXPECT_EQ(outbox.Push("b", record, 1).result, PushOutcome::Result::kAccepted);
  int64_t dropped = -1;
  EXPECT_EQ(outbox.Records("a", &dropped).size(), 1u);
  EXPECT_EQ(dropped, 0);
  EXPECT_EQ(outbox.QuotaUsage("a"), 1);
}

TEST(ChatModeTest, FixtureAndRules) {
  EXPECT_TRUE(CheckChatMode("chat", "manual").ok());
  EXPECT_TRUE(CheckChatMode("chat", "auto").ok());
  EXPECT_TRUE(CheckChatMode("bot", "auto").ok());
  EXPECT_FALSE(CheckChatMode("bot", "manual").ok());
  EXPECT_FALSE(CheckChatMode("off", "auto").ok());
  auto channels = ParseChannels(R"({"channel_id": "1", "channel_secret": "s",
      "access_token": "t", "bot_user_id": "U1", "basic_id": "@1", "chat_mode": "bot"})");
  ASSERT_TRUE(channels.ok()) << channels.status();
  EXPECT_EQ((*channels)[0].chat_mode, "bot");
  EXPECT_EQ((*channels)[0].mark_as_read_mode, "auto");
  EXPECT_FALSE(ParseChannels(R"({"channel_id": "1", "channel_secret": "s",
      "access_token": "t", "bot_user_id": "U1", "basic_id": "@1", "chat_mode": "bot",
      "mark_as_read_mode": "manual"})")
                   .ok());
}

TEST(EventFactoryTest, ContentMessagesAndVerbatimFacts) {
  EventSpec spec;
  spec.message_type = "file";
  spec.content_size = 1234;
  spec.group_id = "C0123456789abcdef0123456789abcdef";
  const GeneratedEvent event = GenerateEvent(spec, absl::FromUnixMillis(1700000000000), 3);
  const EventFacts read = ReadEventFacts(event.raw.json);
  EXPECT_EQ(read.reply_token, event.facts.reply_token);
  EXPECT_EQ(read.mark_as_read_token, event.facts.mark_as_read_token);
  EXPECT_EQ(read.message_id, event.facts.message_id);
  EXPECT_EQ(read.user_id, event.facts.user_id);
  EXPECT_EQ(read.group_id, spec.group_id);
  EXPECT_EQ(read.message_type, "file");
  EXPECT_EQ(read.content_size, 1234);
  EXPECT_EQ(read.file_name, event.facts.file_name);
  EXPECT_TRUE(ReadEventFacts("not json").reply_token.empty());
}

}  // namespace
}  // namespace linechannel::fake_line
