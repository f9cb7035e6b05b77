// Profiles and message content as fake_line serves them, and the other chat calls
// (markAsRead, loading animation).
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/messaging_test_base.h"
#include "tools/fake_line/content_bytes.h"

namespace linechannel::testing {
namespace {

// The peak resident set of process `pid` in KiB (VmHWM), or -1 if unreadable.
int64_t PeakRssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int64_t kib = -1;
    fields >> kib;
    return kib;
  }
  return -1;
}

// `size` bytes of a content from `offset`, as the fake generates them.
std::string Expected(const std::string& message_id, const std::string& type,
                     const std::string& file_name, uint64_t offset, size_t size) {
  std::string out(size, '\0');
  fake_line::FillContent(message_id, type, file_name, offset, size, out.data());
  return out;
}

using LookupTest = MessagingTest;

TEST_F(LookupTest, ProfilesOfUsersTheFakeInvented) {
  const Event event = Generate();
  HttpReply profile = client().Get("/v2/bot/profile/" + event.user_id, Bearer(kTokenA));
  ASSERT_EQ(profile.status, 200) << profile.body;
  JsonView json(profile.body);
  EXPECT_EQ(json.Str("/userId"), event.user_id);
  EXPECT_FALSE(json.Str("/displayName").empty());
  EXPECT_EQ(json.Str("/pictureUrl").rfind("https://", 0), 0u);
  EXPECT_FALSE(json.Str("/statusMessage").empty());
  EXPECT_FALSE(json.Str("/language").empty());
  // The same user always has the same profile.
  JsonView again(client().Get("/v2/bot/profile/" + event.user_id, Bearer(kTokenA)).body);
  for (const char* field : {"/displayName", "/pictureUrl", "/statusMessage", "/language"}) {
    EXPECT_EQ(again.Str(field), json.Str(field)) << field;
  }

  HttpReply unknown =
      client().Get("/v2/bot/profile/U00000000000000000000000000000000", Bearer(kTokenA));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"message":"Not found"})");
  EXPECT_EQ(client().Get("/v2/bot/profile/" + event.user_id, Bearer(kTokenB)).status, 404);
  ASSERT_EQ(client()
                .PatchJson(absl::StrCat("/fake/channels/", kChannelA, "/users/", event.user_id),
                           R"({"blocked": true})")
                .status,
            200);
  EXPECT_EQ(client().Get("/v2/bot/profile/" + event.user_id, Bearer(kTokenA)).status, 404);
}

TEST_F(LookupTest, GroupAndRoomMemberProfiles) {
  const std::string group = "C0123456789abcdef0123456789abcdef";
  const std::string room = "R0123456789abcdef0123456789abcdef";
  const Event in_group = Generate(absl::StrCat(R"({"group_id": ")", group, R"("})"));
  const Event in_room = Generate(absl::StrCat(R"({"room_id": ")", room, R"("})"));
  HttpReply member = client().Get(
      absl::StrCat("/v2/bot/group/", group, "/member/", in_group.user_id), Bearer(kTokenA));
  ASSERT_EQ(member.status, 200) << member.body;
  JsonView json(member.body);
  EXPECT_EQ(json.Str("/userId"), in_group.user_id);
  EXPECT_FALSE(json.Str("/displayName").empty());
  EXPECT_FALSE(json.Str("/pictureUrl").empty());
  EXPECT_FALSE(json.Has("/statusMessage"));
  EXPECT_EQ(
      client()
          .Get(absl::StrCat("/v2/bot/room/", room, "/member/", in_room.user_id), Bearer(kTokenA))
          .status,
      200);
  // Not a member there, or not that kind of chat.
  EXPECT_EQ(
      client()
          .Get(absl::StrCat("/v2/bot/group/", group, "/member/", in_room.user_id), Bearer(kTokenA))
          .status,
      404);
  EXPECT_EQ(
      client()
          .Get(absl::StrCat("/v2/bot/room/", group, "/member/", in_group.user_id), Bearer(kTokenA))
          .status,
      404);
}

TEST_F(LookupTest, ImageContentIsDeterministicJpeg) {
  const Event image = Generate(R"({"message_type": "image", "content_size": 100000})");
  ASSERT_FALSE(image.message_id.empty());
  JsonView webhook(receiver_.requests().back().body);
  EXPECT_EQ(webhook.Str("/events/0/message/type"), "image");
  EXPECT_EQ(webhook.Str("/events/0/message/contentProvider/type"), "line");

  const std::string path = absl::StrCat("/v2/bot/message/", image.message_id, "/content");
  HttpReply content = client().Get(path, Bearer(kTokenA));
  ASSERT_EQ(content.status, 200) << content.body.substr(0, 200);
  EXPECT_EQ(content.Header("content-type"), "image/jpeg");
  EXPECT_EQ(content.Header("content-length"), "100000");
  ASSERT_EQ(content.body.size(), 100000u);
  EXPECT_EQ(content.body.substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_EQ(content.body, Expected(image.message_id, "image", "", 0, 100000));
  EXPECT_EQ(client().Get(path, Bearer(kTokenA)).body, content.body);
  EXPECT_EQ(JsonView(client().Get(path + "/transcoding", Bearer(kTokenA)).body).Str("/status"),
            "succeeded");
  EXPECT_EQ(client().Get(path, Bearer(kTokenB)).status, 404);
}

TEST_F(LookupTest, LargeFileIsStreamedWithoutHoldingItInMemory) {
  constexpr int64_t kSize = int64_t{50} << 20;
  const Event file =
      Generate(absl::StrCat(R"({"message_type": "file", "content_size": )", kSize, "}"));
  JsonView webhook(receiver_.requests().back().body);
  EXPECT_EQ(webhook.Int("/events/0/message/fileSize"), kSize);
  const std::string file_name = webhook.Str("/events/0/message/fileName");
  JsonView info(
      client().Get(absl::StrCat("/fake/channels/", kChannelA, "/content/", file.message_id)).body);
  EXPECT_EQ(info.Int("/size"), kSize);

  const int64_t peak_before = PeakRssKib(fake().child().pid());
  ASSERT_GT(peak_before, 0);
  HttpReply content =
      client().Get(absl::StrCat("/v2/bot/message/", file.message_id, "/content"), Bearer(kTokenA));
  ASSERT_EQ(content.status, 200);
  const int64_t peak_after = PeakRssKib(fake().child().pid());
  EXPECT_EQ(content.Header("content-type"), "application/pdf");
  EXPECT_EQ(content.Header("content-length"), absl::StrCat(kSize));
  ASSERT_EQ(static_cast<int64_t>(content.body.size()), kSize);
  EXPECT_EQ(content.body.substr(0, 5), "%PDF-");
  for (uint64_t offset : {uint64_t{0}, uint64_t{65535}, uint64_t{(25 << 20) + 3},
                          static_cast<uint64_t>(kSize - 4096)}) {
    EXPECT_EQ(content.body.substr(offset, 4096),
              Expected(file.message_id, "file", file_name, offset, 4096))
        << offset;
  }
  // Held whole, 50 MiB would show in the fake's peak memory; streamed, it stays flat.
  EXPECT_LT(peak_after - peak_before, 16 << 10) << peak_before << " -> " << peak_after;

  // The size can be changed afterwards.
  ASSERT_EQ(client()
                .PatchJson(absl::StrCat("/fake/channels/", kChannelA, "/content/", file.message_id),
                           R"({"size": 1000})")
                .status,
            200);
  EXPECT_EQ(client()
                .Get(absl::StrCat("/v2/bot/message/", file.message_id, "/content"), Bearer(kTokenA))
                .body.size(),
            1000u);
}

TEST_F(LookupTest, VideoIsProcessingUntilTheFakeClockSaysReady) {
  FreezeClock();
  SetMessaging(R"({"media_processing_seconds": 30})");
  const Event video = Generate(R"({"message_type": "video", "content_size": 5000})");
  const std::string path = absl::StrCat("/v2/bot/message/", video.message_id, "/content");
  EXPECT_EQ(client().Get(path, Bearer(kTokenA)).status, 202);
  EXPECT_EQ(JsonView(client().Get(path + "/transcoding", Bearer(kTokenA)).body).Str("/status"),
            "processing");
  AdvanceClock(29);
  EXPECT_EQ(client().Get(path, Bearer(kTokenA)).status, 202);
  AdvanceClock(1);
  EXPECT_EQ(JsonView(client().Get(path + "/transcoding", Bearer(kTokenA)).body).Str("/status"),
            "succeeded");
  HttpReply ready = client().Get(path, Bearer(kTokenA));
  ASSERT_EQ(ready.status, 200);
  EXPECT_EQ(ready.Header("content-type"), "video/mp4");
  EXPECT_EQ(ready.body.substr(4, 4), "ftyp");
  EXPECT_EQ(ready.body.size(), 5000u);
}

TEST_F(LookupTest, ControlCallsFinishOrFailProcessing) {
  const Event audio = Generate(R"({"message_type": "audio"})");
  const std::string path = absl::StrCat("/v2/bot/message/", audio.message_id, "/content");
  const std::string control =
      absl::StrCat("/fake/channels/", kChannelA, "/content/", audio.message_id);
  EXPECT_EQ(JsonView(client().Get(control).body).Str("/status"), "processing");
  EXPECT_EQ(client().Get(path, Bearer(kTokenA)).status, 202);
  ASSERT_EQ(client().PatchJson(control, R"({"status": "succeeded"})").status, 200);
  HttpReply ready = client().Get(path, Bearer(kTokenA));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.Header("content-type"), "audio/x-m4a");
  ASSERT_EQ(client().PatchJson(control, R"({"status": "failed"})").status, 200);
  EXPECT_EQ(JsonView(client().Get(path + "/transcoding", Bearer(kTokenA)).body).Str("/status"),
            "failed");
  EXPECT_EQ(client().Get(path, Bearer(kTokenA)).status, 404);
  EXPECT_EQ(client().PatchJson(control, R"({"status": "done"})").status, 400);
}

TEST_F(LookupTest, TextMessagesAndUnknownIdsHaveNoContent) {
  const Event text = Generate();
  EXPECT_EQ(client()
                .Get(absl::StrCat("/v2/bot/message/", text.message_id, "/content"), Bearer(kTokenA))
                .status,
            404);
  EXPECT_EQ(client().Get("/v2/bot/message/1/content/transcoding", Bearer(kTokenA)).status, 404);
  EXPECT_EQ(client().PostJson("/v2/bot/message/1/content", "{}", Bearer(kTokenA)).status, 405);
}

using ChatCallsTest = MessagingTest;

TEST_F(ChatCallsTest, MarkAsReadWithTheTokenFromTheWebhook) {
  const Event event = Generate();
  ASSERT_FALSE(event.mark_as_read_token.empty());
  HttpReply read = client().PostJson(
      "/v2/bot/chat/markAsRead",
      absl::StrCat(R"({"markAsReadToken": )", Quote(event.mark_as_read_token), "}"),
      Bearer(kTokenA));
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.body, "{}");
  HttpReply bad = client().PostJson("/v2/bot/chat/markAsRead", R"({"markAsReadToken": "nope"})",
                                    Bearer(kTokenA));
  EXPECT_EQ(bad.status, 400);
  // This endpoint takes a token, not a chat (that shape is the partner API's, below).
  HttpReply by_chat = client().PostJson(
      "/v2/bot/chat/markAsRead", absl::StrCat(R"({"chat": {"userId": ")", event.user_id, R"("}})"),
      Bearer(kTokenA));
  EXPECT_EQ(by_chat.status, 400);
  EXPECT_EQ(JsonView(by_chat.body).Str("/details/0/property"), "markAsReadToken");

  EXPECT_EQ(client()
                .PostJson("/v2/bot/message/markAsRead",
                          absl::StrCat(R"({"chat": {"userId": ")", event.user_id, R"("}})"),
                          Bearer(kTokenA))
                .status,
            200);
  EXPECT_EQ(
      client()
          .PostJson("/v2/bot/message/markAsRead",
                    R"({"chat": {"userId": "U00000000000000000000000000000000"}})", Bearer(kTokenA))
          .status,
      400);
  EXPECT_EQ(client().PostJson("/v2/bot/message/markAsRead", "{}", Bearer(kTokenA)).status, 400);

  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 2u);
  for (const char* entry : {"/sent/0", "/sent/1"}) {
    EXPECT_EQ(sent.Str(absl::StrCat(entry, "/kind")), "markAsRead");
    EXPECT_EQ(sent.Str(absl::StrCat(entry, "/to")), event.user_id);
  }
}

TEST_F(ChatCallsTest, LoadingAnimationValidation) {
  const std::string user = NewUser();
  auto loading = [&](const std::string& body) {
    return client().PostJson("/v2/bot/chat/loading/start", body, Bearer(kTokenA));
  };
  HttpReply ok = loading(absl::StrCat(R"({"chatId": ")", user, R"(", "loadingSeconds": 10})"));
  EXPECT_EQ(ok.status, 202) << ok.body;
  EXPECT_EQ(ok.body, "{}");
  EXPECT_EQ(loading(absl::StrCat(R"({"chatId": ")", user, R"("})")).status, 202);
  for (const char* seconds : {"0", "3", "7", "61", "65", "\"10\"", "10.5"}) {
    HttpReply bad =
        loading(absl::StrCat(R"({"chatId": ")", user, R"(", "loadingSeconds": )", seconds, "}"));
    EXPECT_EQ(bad.status, 400) << seconds;
    EXPECT_EQ(JsonView(bad.body).Str("/details/0/property"), "loadingSeconds") << bad.body;
  }
  EXPECT_EQ(loading(R"({"chatId": "C0123456789abcdef0123456789abcdef"})").status, 400);
  EXPECT_EQ(loading(R"({"chatId": "U00000000000000000000000000000000"})").status, 400);
  EXPECT_EQ(JsonView(loading("{}").body).Str("/details/0/property"), "chatId");

  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 2u);
  EXPECT_EQ(sent.Str("/sent/0/kind"), "loading");
  EXPECT_EQ(sent.Int("/sent/0/loading_seconds"), 10);
  EXPECT_EQ(sent.Int("/sent/1/loading_seconds"), 20);
}

}  // namespace
}  // namespace linechannel::testing
