#include "tests/tools/json_view.h"

namespace linechannel::testing {

JsonView::JsonView(const std::string& text) : parser_(std::make_unique<simdjson::dom::parser>()) {
  valid_ = parser_->parse(text.data(), text.size()).get(root_) == simdjson::SUCCESS;
}

bool JsonView::At(const std::string& pointer, simdjson::dom::element* out) const {
  if (!valid_) return false;
  return root_.at_pointer(pointer).get(*out) == simdjson::SUCCESS;
}

bool JsonView::Has(const std::string& pointer) const {
  simdjson::dom::element element;
  return At(pointer, &element);
}

std::string JsonView::Str(const std::string& pointer) const {
  simdjson::dom::element element;
  std::string_view value;
  if (!At(pointer, &element) || element.get_string().get(value)) return "";
  return std::string(value);
}

int64_t JsonView::Int(const std::string& pointer) const {
  simdjson::dom::element element;
  int64_t value = 0;
  if (!At(pointer, &element)) return 0;
  if (element.get_int64().get(value) == simdjson::SUCCESS) return value;
  double d = 0;
  if (element.get_double().get(d) == simdjson::SUCCESS) return static_cast<int64_t>(d);
  return 0;
}

bool JsonView::Bool(const std::string& pointer) const {
  simdjson::dom::element element;
  bool value = false;
  if (!At(pointer, &element) || element.get_bool().get(value)) return false;
  return value;
}

bool JsonView::IsString(const std::string& pointer) const {
  simdjson::dom::element element;
  return At(pointer, &element) && element.is_string();
}

size_t JsonView::Size(const std::string& pointer) const {
  simdjson::dom::element element;
  if (!At(pointer, &element)) return 0;
  simdjson::dom::array array;
  if (element.get_array().get(array) == simdjson::SUCCESS) return array.size();
  simdjson::dom::object object;
  if (element.get_object().get(object) == simdjson::SUCCESS) return object.size();
  return 0;
}

std::vector<std::string> JsonView::Keys(const std::string& pointer) const {
  std::vector<std::string> keys;
  simdjson::dom::element element;
  simdjson::dom::object object;
  if (!At(pointer, &element) || element.get_object().get(object)) return keys;
  for (const auto& field : object) keys.emplace_back(field.key);
  return keys;
}

}  // namespace linechannel::testing
