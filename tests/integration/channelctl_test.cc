// channelctl as operators run it: a process with flags, files and standard input, against the
// real channeld and the fake LINE platform.

#include <regex>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/channelctl_runner.h"

namespace linechannel::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class ChannelctlTest : public ChannelctlProcessTest {
 protected:
  std::vector<std::string> BindArgs(const FixtureChannel& c, const std::string& team) {
    return {"bind", "--team=" + team, "--channel_id=" + c.channel_id, "--app_name=Shop",
            "--line_id=" + c.line_id};
  }
  // Binds with the secret and token on standard input and --set_webhook_url.
  CliResult BindWithWebhookUrl(const FixtureChannel& c, const std::string& team) {
    std::vector<std::string> args = BindArgs(c, team);
    args.insert(args.end(), {"--secret_file=-", "--token_file=-", "--set_webhook_url"});
    return Run(args, c.secret + "\n" + c.token + "\n");
  }
};

TEST_F(ChannelctlTest, BindsFromStandardInputAndShowsTheBinding) {
  std::vector<std::string> args = BindArgs(Channel1(), "team-a");
  args.push_back("--secret_file=-");
  args.push_back("--token_file=-");
  const CliResult bound = Run(args, Channel1().secret + "\n" + Channel1().token + "\n");
  EXPECT_EQ(bound.exit_code, 0) << bound.err;
  EXPECT_THAT(bound.out, AllOf(HasSubstr("bound"), HasSubstr("state:               ACTIVE"),
                               HasSubstr("/line/webhook/"), HasSubstr("…d4d4")));
  EXPECT_THAT(bound.out + bound.err,
              AllOf(Not(HasSubstr(Channel1().secret)), Not(HasSubstr(Channel1().token))));

  const CliResult url =
      Run({"webhook-url", "--team=team-a", "--channel_id=" + Channel1().channel_id});
  EXPECT_EQ(url.exit_code, 0);
  EXPECT_THAT(url.out, HasSubstr("http://127.0.0.1:"));

  const CliResult json =
      Run({"--json", "get", "--team=team-a", "--channel_id=" + Channel1().channel_id});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out, AllOf(HasSubstr("\"channelId\": \"1656000001\""),
                              HasSubstr("\"state\": \"ACTIVE\"")));

  const CliResult list = Run({"list", "--team=team-a"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_THAT(list.out,
              AllOf(HasSubstr("CHANNEL_ID"), HasSubstr("1656000001"), HasSubstr("@111aaaaa")));

  const CliResult unbound =
      Run({"unbind", "--team=team-a", "--channel_id=" + Channel1().channel_id});
  EXPECT_EQ(unbound.exit_code, 0) << unbound.err;
  EXPECT_THAT(unbound.out, HasSubstr("UNBOUND"));
}

TEST_F(ChannelctlTest, UnbindPrintsWhatIsLeftOnLine) {
  ASSERT_EQ(BindWithWebhookUrl(Channel1(), "team-a").exit_code, 0);
  auto patched = line_->Control("PATCH", "/fake/channels/" + Channel1().channel_id,
                                R"({"rich_menus":[{"rich_menu_id":"richmenu-a"},
                                                  {"rich_menu_id":"richmenu-b"}],
                                    "default_rich_menu_id":"richmenu-b"})");
  ASSERT_TRUE(patched.ok());
  ASSERT_EQ(patched->status, 200) << patched->body;

  const CliResult unbound = Run(
      {"unbind", "--team=team-a", "--channel_id=" + Channel1().channel_id, "--clear_webhook_url"});
  EXPECT_EQ(unbound.exit_code, 0) << unbound.err;
  // The fake, like LINE's rules, refuses an empty URL: the step says to remove it by hand.
  EXPECT_THAT(
      unbound.out,
      AllOf(HasSubstr("UNBOUND"), HasSubstr("webhook URL not cleared: LINE did not remove"),
            HasSubstr("left on LINE: LINE reports 2 rich menus"),
            HasSubstr("rich_menus:          2"), HasSubstr("default_rich_menu:   richmenu-b"),
            HasSubstr("To clean up on LINE:"), HasSubstr("  1. LINE still sends"),
            HasSubstr("  2. Cancel the default rich menu richmenu-b"),
            HasSubstr("  3. Delete the 2 rich menus")));
}

TEST_F(ChannelctlTest, VerifyAndGetShowTheChatMode) {
  ASSERT_EQ(BindWithWebhookUrl(Channel1(), "team-a").exit_code, 0);

  // The fake's channels are in chat mode: Plan B, with the manual steps as next steps.
  const CliResult verified =
      Run({"verify", "--team=team-a", "--channel_id=" + Channel1().channel_id});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, AllOf(HasSubstr("response settings    WARNING  Plan B"),
                                  HasSubstr("chat mode: CHAT (Plan B)"), HasSubstr("next steps:"),
                                  HasSubstr("greeting message, auto-response and response hours")));

  const CliResult got = Run({"get", "--team=team-a", "--channel_id=" + Channel1().channel_id});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_THAT(got.out, AllOf(HasSubstr("chat_mode:           CHAT (Plan B)"),
                             HasSubstr("mark_as_read_mode:   MARK_AS_READ_MANUAL")));
}

// Scripts read the verdict from the exit status: 3 someone must fix something, 4 ask later.
TEST_F(ChannelctlTest, VerifyExitsWithItsVerdict) {
  std::vector<std::string> args = BindArgs(Channel1(), "team-a");
  args.insert(args.end(), {"--secret_file=-", "--token_file=-"});
  ASSERT_EQ(Run(args, Channel1().secret + "\n" + Channel1().token + "\n").exit_code, 0);
  const std::vector<std::string> verify = {"verify", "--team=team-a",
                                           "--channel_id=" + Channel1().channel_id};

  // Bound without --set_webhook_url: LINE has no webhook URL for it.
  const CliResult unset = Run(verify);
  EXPECT_EQ(unset.exit_code, 3) << unset.out << unset.err;
  EXPECT_THAT(unset.out, HasSubstr("verdict: ACTION_NEEDED"));
  std::vector<std::string> as_json = verify;
  as_json.push_back("--json");
  const CliResult json = Run(as_json);
  EXPECT_EQ(json.exit_code, 3) << json.out << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"ACTION_NEEDED\""));

  auto failing = line_->Control("PATCH", "/fake/faults", R"({"fail_status":503})");
  ASSERT_TRUE(failing.ok() && failing->status == 200);
  const CliResult unavailable = Run(verify);
  EXPECT_EQ(unavailable.exit_code, 4) << unavailable.out << unavailable.err;
  EXPECT_THAT(unavailable.out, HasSubstr("verdict: LINE_UNAVAILABLE"));
}

TEST_F(ChannelctlTest, BindsFromFilesAndUpdatesCredentials) {
  std::vector<std::string> args = BindArgs(Channel2(), "team-a");
  args.push_back("--secret_file=" + WriteFile("secret", "  " + Channel2().secret + "\n"));
  args.push_back("--token_file=" + WriteFile("token", Channel2().token));
  const CliResult bound = Run(args);
  EXPECT_EQ(bound.exit_code, 0) << bound.err;

  const CliResult updated =
      Run({"update-credentials", "--team=team-a", "--channel_id=" + Channel2().channel_id,
           "--token_file=" + WriteFile("token2", Channel2().token + "\n")});
  EXPECT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_THAT(updated.out, HasSubstr("credentials updated"));
}

TEST_F(ChannelctlTest, ServerRefusalsExitOneWithCodeReasonAndFields) {
  std::vector<std::string> args = BindArgs(Channel1(), "team-a");
  args.push_back("--secret_file=-");
  args.push_back("--token_file=-");
  ASSERT_EQ(Run(args, Channel1().secret + "\n" + Channel1().token + "\n").exit_code, 0);

  args = BindArgs(Channel1(), "team-b");
  args.push_back("--secret_file=-");
  args.push_back("--token_file=-");
  const CliResult refused = Run(args, Channel1().secret + "\n" + Channel1().token + "\n");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("ALREADY_EXISTS (OA_BOUND_TO_OTHER_TEAM): This LINE Official "
                                     "Account is already bound to another team"));
  // The id that finds the refusal's line in the server's log, for whoever reports it.
  std::smatch found;
  ASSERT_TRUE(std::regex_search(refused.err, found,
                                std::regex(R"(\(server request id ([A-Za-z0-9_-]{11}): )")))
      << refused.err;
  const std::string request_id = found[1];
  const std::string log = channeld_->ReadLogOnceItHas(request_id);
  EXPECT_THAT(log, HasSubstr(absl::StrCat("\"request_id\":\"", request_id, "\"")));

  const CliResult invalid = Run({"bind", "--team=bad team", "--channel_id=12x", "--app_name=A",
                                 "--line_id=@ok", "--secret_file=-", "--token_file=-"},
                                "not-a-secret\nBearer abc\n");
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.err,
              AllOf(HasSubstr("INVALID_ARGUMENT (INVALID_FIELDS)"), HasSubstr("  team_id: "),
                    HasSubstr("  channel_id: "), HasSubstr("  channel_secret: "),
                    HasSubstr("  channel_access_token: "), Not(HasSubstr("not-a-secret"))));

  const CliResult json = Run({"--json", "get", "--team=team-b", "--channel_id=1656000001"});
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_THAT(json.err, AllOf(HasSubstr("\"code\": \"NOT_FOUND\""),
                              HasSubstr("\"reason\": \"BINDING_NOT_FOUND\""),
                              HasSubstr("\"serverRequestId\": \"")));
}

TEST_F(ChannelctlTest, AuditShowsWhoChangedTheTeamsBindingsNewestFirst) {
  std::vector<std::string> args = BindArgs(Channel1(), "team-a");
  args.push_back("--secret_file=-");
  args.push_back("--token_file=-");
  const std::string values = Channel1().secret + "\n" + Channel1().token + "\n";
  ASSERT_EQ(Run(args, values).exit_code, 0);
  ASSERT_EQ(Run({"unbind", "--team=team-a", "--channel_id=" + Channel1().channel_id}).exit_code, 0);
  ASSERT_EQ(Run(args, values).exit_code, 0);

  // One page at a time, with the way to the next.
  const CliResult first = Run({"audit", "--team=team-a", "--page_size=1"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, AllOf(HasSubstr("ACTION"), HasSubstr("ACTOR"), HasSubstr("bind"),
                               HasSubstr("admin"), HasSubstr(Channel1().channel_id),
                               HasSubstr("more: --page_token="), Not(HasSubstr("unbind"))));

  // --all: every page under one header, newest first.
  const CliResult all = Run({"audit", "--team=team-a", "--page_size=1", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.out, Not(HasSubstr("more:")));
  const size_t unbind = all.out.find("unbind");
  ASSERT_NE(unbind, std::string::npos) << all.out;
  EXPECT_NE(all.out.rfind(" bind ", unbind), std::string::npos) << all.out;
  EXPECT_NE(all.out.find(" bind ", unbind), std::string::npos) << all.out;
  EXPECT_THAT(all.out + all.err,
              AllOf(Not(HasSubstr(Channel1().secret)), Not(HasSubstr(Channel1().token))));

  const CliResult json =
      Run({"--json", "audit", "--team=team-a", "--channel_id=" + Channel1().channel_id, "--all"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, AllOf(HasSubstr("\"entries\""), HasSubstr("\"action\": \"unbind\""),
                              HasSubstr("\"actor\": \"admin\""), HasSubstr("\"bindingId\""),
                              Not(HasSubstr("nextPageToken"))));

  const CliResult none = Run({"audit", "--team=team-b"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_THAT(none.out, HasSubstr("no audit entries"));

  EXPECT_EQ(Run({"audit"}).exit_code, 2);
  const CliResult bad = Run({"audit", "--team=team-a", "--page_size=5000"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("page_size"));
}

TEST_F(ChannelctlTest, UsageMistakesExitTwoAndSecretsNeverComeFromArgv) {
  EXPECT_EQ(Run({}).exit_code, 2);
  EXPECT_EQ(Run({"frobnicate"}).exit_code, 2);
  const CliResult missing = Run({"bind", "--team=t"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--channel_id"));

  std::vector<std::string> args = BindArgs(Channel1(), "t");
  args.push_back("--secret_file=" + WriteFile("two-lines", "a\nb\n"));
  args.push_back("--token_file=" + dir_.File("does-not-exist"));
  const CliResult bad_files = Run(args);
  EXPECT_EQ(bad_files.exit_code, 2);
  EXPECT_THAT(bad_files.err, HasSubstr("more than one line"));

  // There is no flag that takes a secret itself.
  const CliResult argv_secret = Run({"bind", "--channel_secret=" + Channel1().secret});
  EXPECT_NE(argv_secret.exit_code, 0);
  EXPECT_THAT(argv_secret.err, HasSubstr("channel_secret"));
}

}  // namespace
}  // namespace linechannel::testing
