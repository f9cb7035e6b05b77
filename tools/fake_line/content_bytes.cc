#include "tools/fake_line/content_bytes.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace linechannel::fake_line {
namespace {

constexpr char kJpeg[] = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00";
constexpr char kMp4[] =
    "\x00\x00\x00\x18"
    "ftypmp42";
constexpr char kM4a[] =
    "\x00\x00\x00\x18"
    "ftypM4A ";
constexpr char kPdf[] = "%PDF-1.7\n";

// The magic number a content starts with; empty for unknown file types.
absl::string_view MagicOf(absl::string_view message_type, absl::string_view file_name) {
  if (message_type == "image") return absl::string_view(kJpeg, sizeof(kJpeg) - 1);
  if (message_type == "video") return absl::string_view(kMp4, sizeof(kMp4) - 1);
  if (message_type == "audio") return absl::string_view(kM4a, sizeof(kM4a) - 1);
  if (absl::EndsWithIgnoreCase(file_name, ".pdf")) return kPdf;
  return "";
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A seed that is the same in every run (std::hash is not guaranteed to be).
uint64_t SeedOf(absl::string_view message_id) {
  uint64_t h = 1469598103934665603ull;
  for (char c : message_id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

}  // namespace

std::string ContentTypeOf(absl::string_view message_type, absl::string_view file_name) {
  if (message_type == "image") return "image/jpeg";
  if (message_type == "video") return "video/mp4";
  if (message_type == "audio") return "audio/x-m4a";
  const std::string name = absl::AsciiStrToLower(file_name);
  if (absl::EndsWith(name, ".pdf")) return "application/pdf";
  if (absl::EndsWith(name, ".txt")) return "text/plain";
  if (absl::EndsWith(name, ".zip")) return "application/zip";
  return "application/octet-stream";
}

void FillContent(absl::string_view message_id, absl::string_view message_type,
                 absl::string_view file_name, uint64_t offset, size_t size, char* out) {
  const absl::string_view magic = MagicOf(message_type, file_name);
  const uint64_t seed = SeedOf(message_id);
  for (size_t i = 0; i < size;) {
    const uint64_t at = offset + i;
    if (at < magic.size()) {
      out[i++] = magic[at];
      continue;
    }
    // Eight bytes per 64-bit word, word n = SplitMix64(seed + n); copy the part in range.
    const uint64_t word = SplitMix64(seed + at / 8);
    for (uint64_t k = at % 8; k < 8 && i < size; ++k) {
      out[i++] = static_cast<char>((word >> (8 * k)) & 0xFF);
    }
  }
}

std::shared_ptr<const BodyStream> ContentStream(const MediaItem& item) {
  auto stream = std::make_shared<BodyStream>();
  stream->length = item.size;
  stream->fill = [id = item.message_id, type = item.message_type, name = item.file_name](
                     uint64_t offset, size_t size, char* out) {
    FillContent(id, type, name, offset, size, out);
  };
  return stream;
}

}  // namespace linechannel::fake_line
