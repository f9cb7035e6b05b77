#include "tools/fake_line/messaging_stores.h"

namespace linechannel::fake_line {

void MessagingStores::Remember(absl::string_view channel_id, const EventFacts& facts,
                               absl::Time now) const {
  if (!facts.user_id.empty()) audience->AddUser(channel_id, InventProfile(facts.user_id));
  // Replies go to where the event happened: the group or room, else the user.
  absl::string_view chat = facts.user_id;
  if (!facts.group_id.empty()) {
    chat = facts.group_id;
  } else if (!facts.room_id.empty()) {
    chat = facts.room_id;
  }
  if (chat != facts.user_id) audience->AddMember(channel_id, chat, facts.user_id);
  if (!facts.reply_token.empty()) outbox->AddReplyToken(channel_id, facts.reply_token, chat);
  if (!facts.mark_as_read_token.empty()) {
    outbox->AddReadToken(channel_id, facts.mark_as_read_token, facts.user_id);
  }
  if (!facts.message_id.empty() && HasContent(facts.message_type)) {
    MediaItem item;
    item.message_id = facts.message_id;
    item.message_type = facts.message_type;
    item.file_name = facts.file_name;
    item.size = static_cast<uint64_t>(facts.content_size);
    // Only video and audio need preparing; images and files are ready at once.
    item.ready_at = facts.message_type == "video" || facts.message_type == "audio"
                        ? now + outbox->settings(channel_id).media_processing
                        : now;
    media->Add(channel_id, std::move(item));
  }
}

void MessagingStores::Forget(absl::string_view channel_id) const {
  audience->Forget(channel_id);
  outbox->Forget(channel_id);
  media->Forget(channel_id);
  faults->Clear(channel_id);
}

}  // namespace linechannel::fake_line
