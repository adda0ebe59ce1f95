#pragma once
// JsonTreeBuilder: nlohmann's SAX events built into a tree, as nlohmann::json::parse builds one, with
// the reader's checks at each container opened (its depth) and each key read (whether its object
// holds it already). nlohmann's parse with a callback allows the same checks, but after every
// element it closes it walks the container around it for discarded values: quadratic in one
// container's elements (a model.json array of 160,000 {} took 8 s, a safetensors header of 40,000
// tensors 13 s). Header-only and LibTorch-free: the safetensors header's fuzzer builds it alone.
//
//   JsonTreeBuilder builder(on_open, on_key);
//   nlohmann::json::sax_parse(in, &builder);  // throws as nlohmann::json::parse does, or the checks
//   nlohmann::json value = builder.take();

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace svgear {

class JsonTreeBuilder {
 public:
  using json = nlohmann::json;
  // `depth`: the document's value is at 0, an object's keys and an array's elements one deeper than
  // it. Each throws to refuse what it is shown.
  using OnOpen = std::function<void(int depth)>;
  using OnKey = std::function<void(int depth, const std::string& key, bool repeated)>;

  JsonTreeBuilder(OnOpen on_open, OnKey on_key) : on_open_(std::move(on_open)), on_key_(std::move(on_key)) {}

  json take() { return std::move(root_); }

  // The SAX interface nlohmann::json::sax_parse calls.
  bool null() { return add(nullptr); }
  bool boolean(bool value) { return add(value); }
  bool number_integer(json::number_integer_t value) { return add(value); }
  bool number_unsigned(json::number_unsigned_t value) { return add(value); }
  bool number_float(json::number_float_t value, const json::string_t&) { return add(value); }
  bool string(json::string_t& value) { return add(std::move(value)); }
  bool binary(json::binary_t& value) { return add(json::binary(std::move(value))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  // The key's member is made here, its value filled in when it comes: one lookup per member.
  bool key(json::string_t& key) {
    auto [member, added] = open_.back()->get_ref<json::object_t&>().try_emplace(std::move(key));
    on_key_(int(open_.size()), member->first, !added);
    slot_ = &member->second;
    return true;
  }
  // A template, as nlohmann's own tree builder's: the parse error is thrown as its own type.
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& error) {
    throw error;
  }

 private:
  // The value's place: the document, the open array's end, or the open object's last key.
  json& place(json&& value) {
    if (open_.empty()) return root_ = std::move(value);
    json& container = *open_.back();
    if (container.is_array()) {
      container.push_back(std::move(value));
      return container.back();
    }
    return *slot_ = std::move(value);
  }
  bool add(json&& value) {
    place(std::move(value));
    return true;
  }
  bool open(json&& container) {
    on_open_(int(open_.size()));
    open_.push_back(&place(std::move(container)));
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  OnOpen on_open_;
  OnKey on_key_;
  json root_;
  std::vector<json*> open_;  // the containers being read, the document's first
  json* slot_ = nullptr;     // the open object's member whose value comes next
};

}  // namespace svgear
