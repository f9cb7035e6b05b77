#include "tools/fake_line/lookup_api.h"

#include <functional>
#include <vector>

#include "absl/strings/str_split.h"
#include "tools/fake_line/content_bytes.h"
#include "tools/fake_line/responses.h"

namespace linechannel::fake_line {
namespace {

HttpResponse NotFound() { return BotError(404, "Not found"); }

}  // namespace

std::optional<HttpResponse> LookupApi::Handle(const HttpRequest& request) const {
  const std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(request.path), '/', absl::SkipEmpty());
  // parts: v2 bot <what> ...
  if (parts.size() < 4 || parts[0] != "v2" || parts[1] != "bot") return std::nullopt;
  std::function<HttpResponse(const ChannelState&)> handle;
  const char* call_key = nullptr;
  if (parts.size() == 4 && parts[2] == "profile") {
    call_key = "profile";
    handle = [&](const ChannelState& state) { return Profile(state, parts[3]); };
  } else if (parts.size() == 6 && (parts[2] == "group" || parts[2] == "room") &&
             parts[4] == "member") {
    call_key = "member_profile";
    // A group id starts with C and a room id with R: the path must name the right kind.
    const bool right_kind = !parts[3].empty() && parts[3][0] == (parts[2] == "group" ? 'C' : 'R');
    handle = [&, right_kind](const ChannelState& state) {
      return right_kind ? MemberProfile(state, parts[3], parts[5]) : NotFound();
    };
  } else if (parts.size() == 5 && parts[2] == "message" && parts[4] == "content") {
    call_key = "content";
    handle = [&](const ChannelState& state) { return Content(state, parts[3]); };
  } else if (parts.size() == 6 && parts[2] == "message" && parts[4] == "content" &&
             parts[5] == "transcoding") {
    call_key = "transcoding";
    handle = [&](const ChannelState& state) { return Transcoding(state, parts[3]); };
  } else {
    return std::nullopt;
  }
  if (request.method != "GET") return MethodNotAllowed("GET");
  return gate_->Serve(request, call_key, handle);
}

HttpResponse LookupApi::Profile(const ChannelState& state, const std::string& user_id) const {
  std::optional<UserProfile> user = stores_.audience->FindUser(state.channel.channel_id, user_id);
  // LINE shows no profile of a user who blocked the OA.
  if (!user.has_value() || user->blocked) return NotFound();
  JsonObject body;
  body.Set("userId", user->user_id).Set("displayName", user->display_name);
  if (!user->picture_url.empty()) body.Set("pictureUrl", user->picture_url);
  if (!user->status_message.empty()) body.Set("statusMessage", user->status_message);
  if (!user->language.empty()) body.Set("language", user->language);
  return JsonResponse(200, body);
}

HttpResponse LookupApi::MemberProfile(const ChannelState& state, const std::string& chat_id,
                                      const std::string& user_id) const {
  const std::string& channel_id = state.channel.channel_id;
  std::optional<UserProfile> user = stores_.audience->FindUser(channel_id, user_id);
  if (!user.has_value() || !stores_.audience->IsMember(channel_id, chat_id, user_id)) {
    return NotFound();
  }
  // Group and room member profiles carry no status message or language.
  JsonObject body;
  body.Set("userId", user->user_id).Set("displayName", user->display_name);
  if (!user->picture_url.empty()) body.Set("pictureUrl", user->picture_url);
  return JsonResponse(200, body);
}

HttpResponse LookupApi::Content(const ChannelState& state, const std::string& message_id) const {
  std::optional<MediaItem> item = stores_.media->Find(state.channel.channel_id, message_id);
  if (!item.has_value()) return NotFound();
  switch (item->StatusAt(clock_->Now())) {
    case MediaStatus::kProcessing: {
      // Accepted, nothing to download yet: the caller should ask transcoding and come back.
      HttpResponse response;
      response.status = 202;
      return response;
    }
    case MediaStatus::kFailed:
      return NotFound();
    case MediaStatus::kSucceeded:
      break;
  }
  HttpResponse response;
  response.content_type = ContentTypeOf(item->message_type, item->file_name);
  response.stream = ContentStream(*item);
  return response;
}

HttpResponse LookupApi::Transcoding(const ChannelState& state,
                                    const std::string& message_id) const {
  std::optional<MediaItem> item = stores_.media->Find(state.channel.channel_id, message_id);
  if (!item.has_value()) return NotFound();
  return JsonResponse(200,
                      JsonObject().Set("status", MediaStatusName(item->StatusAt(clock_->Now()))));
}

}  // namespace linechannel::fake_line
