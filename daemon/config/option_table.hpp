#pragma once
// Declared config options (after Fluent Bit's config maps): each section lists its options once,
// with kind, limits, description and the struct member it fills. The same declaration drives
// reading the YAML into the structs, every per-value check (unknown and duplicate keys, kinds,
// ranges, patterns) and the JSON Schema. Each domain declares its own sections beside its code
// (drivers/modbus/modbus_options.hpp, ...); checks that span several values run in a section's
// finisher, and checks across domains in the root section's (daemon/config/config.cpp). See
// README.md.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/config/config_issue.hpp"
#include "daemon/core/units.hpp"

namespace fw::config_table {

enum class OptionKind { string, integer, number, boolean, duration, size, enumeration, list, map };

struct SectionShape;

// What one option's value must look like; enough to check it and to describe it in the schema.
struct OptionShape {
    std::string key;
    OptionKind kind = OptionKind::string;
    std::string description;
    bool required = false;
    // JSON text of the default, derived from the struct's default member initializer.
    std::optional<std::string> default_json;
    // integer: the value; duration: milliseconds; size: bytes.
    std::optional<std::int64_t> minimum;
    std::optional<std::int64_t> maximum;
    std::vector<std::int64_t> integer_choices;  // integer options with a fixed set (baud rates)
    std::vector<std::string> names;             // enumeration options
    std::string noun;            // what messages call the value ("byte order"); empty: the key
    bool nonzero = false;        // number options
    std::string pattern;         // string options: ECMAScript regex, anchored
    std::string pattern_hint;    // the pattern in words, for messages
    std::size_t min_length = 0;  // string options
    std::size_t min_items = 0;   // list options
    std::shared_ptr<const SectionShape> section;  // map options: the map; list options: each item
};

struct SectionShape {
    std::vector<OptionShape> options;
    // Extra JSON Schema keywords for rules the per-option shapes cannot say (one of tcp/rtu),
    // as JSON object text merged into the section's schema.
    std::vector<std::string> schema_rules;
    std::vector<std::string> keys() const;
};

// Collects issues with their positions while one document is read, and remembers where every
// value was found so checks after the table pass can point at it by path.
class Reader {
  public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    void visit(const std::string& path, const YAML::Mark& mark) { marks_[path] = mark; }
    bool present(const std::string& path) const { return marks_.contains(path); }
    bool failed(const std::string& path) const { return failed_paths_.contains(path); }
    // Position of `path`, or of its nearest present parent.
    std::optional<YAML::Mark> mark_of(std::string path) const;

    void issue(const YAML::Mark& mark, const std::string& path, std::string message);
    void issue(const std::string& path, std::string message);
    void issue_without_position(std::string message);

    bool has_issues() const { return !issues_.empty(); }
    // Sorted by position so they read top to bottom.
    std::vector<ConfigIssue> take_issues();

  private:
    std::string file_;
    std::map<std::string, YAML::Mark, std::less<>> marks_;
    std::set<std::string, std::less<>> failed_paths_;
    std::vector<ConfigIssue> issues_;
};

std::string join_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, std::size_t index);

// A value that must be unique, and where it was written.
struct NamedAt {
    std::string value;
    std::string path;
};

// Reports each value used a second time, naming where the first one is; `what` names the kind of
// value ("device name"). Empty values and values that already failed a check are skipped.
void report_repeats(const std::vector<NamedAt>& names, std::string_view what, Reader& reader);

// The same for one string key of every item of a list: each item's `key` at `list_path`[i].key,
// e.g. report_repeated_key(mqtt.brokers, "mqtt.brokers", "name", &BrokerConfig::name,
// "broker name", reader).
template <typename Item>
void report_repeated_key(const std::vector<Item>& items, const std::string& list_path,
                         std::string_view key, std::string Item::*member, std::string_view what,
                         Reader& reader) {
    std::vector<NamedAt> values;
    values.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        values.push_back({items[i].*member, join_path(index_path(list_path, i), key)});
    }
    report_repeats(values, what, reader);
}

// A string pattern (ECMAScript regex, anchored) and the same in words, for messages.
struct Pattern {
    std::string_view regex;
    std::string_view hint;
};

// Name shapes several sections share.
// Ids that end up in topics, file names and URLs.
inline constexpr Pattern kIdName{"^[a-z0-9][a-z0-9-]*$",
                                 "lowercase letters, digits and '-', not starting with '-'"};
inline constexpr Pattern kPlainName{"^[A-Za-z0-9_.-]+$", "letters, digits, '_', '.' and '-'"};
inline constexpr Pattern kChannelName{"^[A-Za-z0-9_.:-]+$",
                                      "letters, digits, '_', '.', ':' and '-'"};

using ScalarValue = std::variant<std::string, std::int64_t, double, bool, Millis, std::uint64_t>;

// Checks a scalar against its shape; reports and returns nullopt when it does not fit. Strings
// that fail their pattern are still returned, so later cross-reference checks see the name the
// user wrote instead of reporting it missing as well.
std::optional<ScalarValue> read_scalar(const OptionShape& shape, const YAML::Node& node,
                                       const std::string& path, Reader& reader);

// Checks a map's keys against the section: unknown, duplicate and missing required keys. Returns,
// for each declared option in order, its value node if present; nullopt if `node` is not a map.
std::optional<std::vector<std::optional<YAML::Node>>> match_keys(const SectionShape& shape,
                                                                 const YAML::Node& node,
                                                                 const std::string& path,
                                                                 Reader& reader);

bool expect_list(const OptionShape& shape, const YAML::Node& node, const std::string& path,
                 Reader& reader);

// The draft 2020-12 JSON Schema of a section, as the root document.
std::string json_schema(const SectionShape& root, std::string_view title,
                        std::string_view description);

std::size_t edit_distance(std::string_view a, std::string_view b);

std::string json_string(std::string_view text);
// Regexes (ECMAScript, as in JSON Schema) for what parse_duration and parse_size accept.
extern const std::string_view kDurationPattern;
extern const std::string_view kSizePattern;
// Whether all of `text` matches `pattern` (ECMAScript, the dialect of JSON Schema's "pattern").
bool matches_pattern(std::string_view text, std::string_view pattern);
std::string json_number(double value);

// Fluent builder over the option just declared; refines its limits.
class OptionRef {
  public:
    explicit OptionRef(OptionShape& shape) : shape_(shape) {}
    OptionRef& required() {
        shape_.required = true;
        shape_.default_json.reset();
        return *this;
    }
    OptionRef& between(std::int64_t low, std::int64_t high) {
        shape_.minimum = low;
        shape_.maximum = high;
        return *this;
    }
    OptionRef& between(Millis low, Millis high) { return between(low.count(), high.count()); }
    OptionRef& at_least(std::int64_t low) {
        shape_.minimum = low;
        return *this;
    }
    OptionRef& at_least(Millis low) { return at_least(low.count()); }
    OptionRef& one_of(std::vector<std::int64_t> choices) {
        shape_.integer_choices = std::move(choices);
        return *this;
    }
    OptionRef& not_zero() {
        shape_.nonzero = true;
        return *this;
    }
    OptionRef& pattern(std::string regex, std::string hint) {
        shape_.pattern = std::move(regex);
        shape_.pattern_hint = std::move(hint);
        return *this;
    }
    OptionRef& pattern(Pattern shared) {
        return pattern(std::string(shared.regex), std::string(shared.hint));
    }
    OptionRef& not_empty() {
        shape_.min_length = 1;
        return *this;
    }
    OptionRef& min_items(std::size_t count) {
        shape_.min_items = count;
        return *this;
    }
    // What messages call the value when the key alone does not say it: "unknown byte order
    // 'ABDC'" for the key `order`.
    OptionRef& called(std::string noun) {
        shape_.noun = std::move(noun);
        return *this;
    }
    // For options whose default depends on other values; the description says what it is.
    OptionRef& no_default() {
        shape_.default_json.reset();
        return *this;
    }

  private:
    OptionShape& shape_;
};

template <typename T>
class Section {
  public:
    using OptionReader =
        std::function<void(T&, const YAML::Node&, const std::string& path, Reader&)>;
    using Finisher = std::function<void(T&, const std::string& path, Reader&)>;

    Section() : shape_(std::make_shared<SectionShape>()) {}

    const SectionShape& shape() const { return *shape_; }
    std::shared_ptr<const SectionShape> shared_shape() const { return shape_; }

    OptionRef string(std::string key, std::string T::*member, std::string description) {
        auto& shape = add(std::move(key), OptionKind::string, std::move(description),
                          [member](T& out, ScalarValue value) {
                              out.*member = std::get<std::string>(std::move(value));
                          });
        if (!(T{}.*member).empty()) shape.default_json = json_string(T{}.*member);
        return OptionRef(shape);
    }

    template <typename Integer>
    requires std::is_integral_v<Integer> OptionRef integer(std::string key, Integer T::*member,
                                                           std::string description) {
        auto& shape = add(std::move(key), OptionKind::integer, std::move(description),
                          [member](T& out, ScalarValue value) {
                              out.*member = static_cast<Integer>(std::get<std::int64_t>(value));
                          });
        // The member's own range always applies, so a declared range can only narrow it.
        shape.minimum = static_cast<std::int64_t>(std::numeric_limits<Integer>::min());
        shape.maximum = static_cast<std::int64_t>(std::min<std::uint64_t>(
            std::numeric_limits<Integer>::max(), std::numeric_limits<std::int64_t>::max()));
        shape.default_json = std::to_string(T{}.*member);
        return OptionRef(shape);
    }

    OptionRef number(std::string key, double T::*member, std::string description) {
        auto& shape =
            add(std::move(key), OptionKind::number, std::move(description),
                [member](T& out, ScalarValue value) { out.*member = std::get<double>(value); });
        shape.default_json = json_number(T{}.*member);
        return OptionRef(shape);
    }

    // A number the struct keeps elsewhere than in one member (one key filling two members);
    // `store` puts it there. No default is derived.
    OptionRef number(std::string key, std::function<void(T&, double)> store,
                     std::string description) {
        return OptionRef(add(std::move(key), OptionKind::number, std::move(description),
                             [store = std::move(store)](T& out, ScalarValue value) {
                                 store(out, std::get<double>(value));
                             }));
    }

    OptionRef boolean(std::string key, bool T::*member, std::string description) {
        auto& shape =
            add(std::move(key), OptionKind::boolean, std::move(description),
                [member](T& out, ScalarValue value) { out.*member = std::get<bool>(value); });
        shape.default_json = (T{}.*member) ? "true" : "false";
        return OptionRef(shape);
    }

    OptionRef duration(std::string key, Millis T::*member, std::string description) {
        auto& shape =
            add(std::move(key), OptionKind::duration, std::move(description),
                [member](T& out, ScalarValue value) { out.*member = std::get<Millis>(value); });
        shape.minimum = 0;
        shape.default_json = json_string(format_duration(T{}.*member));
        return OptionRef(shape);
    }

    // A duration the struct keeps in another unit (seconds as a double); `store` converts it. No
    // default is derived.
    OptionRef duration(std::string key, std::function<void(T&, Millis)> store,
                       std::string description) {
        auto& shape = add(std::move(key), OptionKind::duration, std::move(description),
                          [store = std::move(store)](T& out, ScalarValue value) {
                              store(out, std::get<Millis>(value));
                          });
        shape.minimum = 0;
        return OptionRef(shape);
    }

    OptionRef size(std::string key, std::uint64_t T::*member, std::string description) {
        auto& shape = add(
            std::move(key), OptionKind::size, std::move(description),
            [member](T& out, ScalarValue value) { out.*member = std::get<std::uint64_t>(value); });
        shape.default_json = json_string(format_size(T{}.*member));
        return OptionRef(shape);
    }

    // `names` lists every accepted name; `from_name` maps one to the enum.
    template <typename Enum>
    OptionRef enumeration(std::string key, Enum T::*member, std::span<const std::string_view> names,
                          std::optional<Enum> (*from_name)(std::string_view),
                          std::string description) {
        auto& shape = add(std::move(key), OptionKind::enumeration, std::move(description),
                          [member, from_name](T& out, ScalarValue value) {
                              out.*member = *from_name(std::get<std::string>(value));
                          });
        for (const auto name : names) {
            shape.names.emplace_back(name);
            if (from_name(name) == T{}.*member && !shape.default_json) {
                shape.default_json = json_string(name);
            }
        }
        return OptionRef(shape);
    }

    // A list of text values (addresses, origins); each item is checked like a string option
    // with the pattern given to the returned OptionRef.
    OptionRef strings(std::string key, std::vector<std::string> T::*member,
                      std::string description) {
        auto& shape = add_reader(
            std::move(key), OptionKind::list, std::move(description),
            [member, this_shape = shape_, index = shape_->options.size()](
                T& out, const YAML::Node& node, const std::string& path, Reader& reader) {
                const OptionShape& list_shape = this_shape->options[index];
                if (!expect_list(list_shape, node, path, reader)) return;
                OptionShape item_shape;
                item_shape.key = list_shape.key;
                item_shape.pattern = list_shape.pattern;
                item_shape.pattern_hint = list_shape.pattern_hint;
                auto& items = out.*member;
                items.clear();
                for (std::size_t i = 0; i < node.size(); ++i) {
                    auto value = read_scalar(item_shape, node[i], index_path(path, i), reader);
                    if (value) items.push_back(std::get<std::string>(std::move(*value)));
                }
            });
        const T defaults{};
        std::string default_json = "[";
        for (const auto& item : defaults.*member) {
            if (default_json.size() > 1) default_json += ", ";
            default_json += json_string(item);
        }
        shape.default_json = default_json + "]";
        return OptionRef(shape);
    }

    // A nested map read with its own section; `assign` stores the result.
    template <typename Child>
    OptionRef section(std::string key, Section<Child> child,
                      std::function<void(T&, Child&&)> assign, std::string description) {
        auto& shape = add_reader(std::move(key), OptionKind::map, std::move(description),
                                 [child, assign](T& out, const YAML::Node& node,
                                                 const std::string& path, Reader& reader) {
                                     Child value;
                                     child.read(node, path, value, reader);
                                     assign(out, std::move(value));
                                 });
        shape.section = child.shared_shape();
        return OptionRef(shape);
    }

    template <typename Child>
    OptionRef section(std::string key, Child T::*member, Section<Child> child,
                      std::string description) {
        return section<Child>(
            std::move(key), std::move(child),
            [member](T& out, Child&& value) { out.*member = std::move(value); },
            std::move(description));
    }

    // A list of maps, each read with `item`. Every item is kept even when it has issues, so item
    // indices match the document's for the checks after the table pass.
    template <typename Item>
    OptionRef list(std::string key, std::vector<Item> T::*member, Section<Item> item,
                   std::string description) {
        auto& shape = add_reader(
            std::move(key), OptionKind::list, std::move(description),
            [item, member, this_shape = shape_, index = shape_->options.size()](
                T& out, const YAML::Node& node, const std::string& path, Reader& reader) {
                if (!expect_list(this_shape->options[index], node, path, reader)) return;
                auto& items = out.*member;
                items.clear();
                for (std::size_t i = 0; i < node.size(); ++i) {
                    Item value;
                    item.read(node[i], index_path(path, i), value, reader);
                    items.push_back(std::move(value));
                }
            });
        shape.section = item.shared_shape();
        return OptionRef(shape);
    }

    // The option declared under `key`, to refine one declared from a field list (rules). A key
    // that was never declared is a programming error.
    OptionRef option(std::string_view key) {
        for (auto& option : shape_->options) {
            if (option.key == key) return OptionRef(option);
        }
        throw std::logic_error("no config option '" + std::string(key) + "' is declared");
    }

    // Runs after the section's options are read: defaults that depend on other options and checks
    // within the section.
    void finish_with(Finisher finisher) { finisher_ = std::move(finisher); }

    void schema_rule(std::string json_object) {
        shape_->schema_rules.push_back(std::move(json_object));
    }

    void read(const YAML::Node& node, const std::string& path, T& out, Reader& reader) const {
        const auto values = match_keys(*shape_, node, path, reader);
        if (!values) return;
        for (std::size_t i = 0; i < readers_.size(); ++i) {
            if ((*values)[i]) {
                readers_[i](out, *(*values)[i], join_path(path, shape_->options[i].key), reader);
            }
        }
        if (finisher_) finisher_(out, path, reader);
    }

  private:
    OptionShape& add_reader(std::string key, OptionKind kind, std::string description,
                            OptionReader option_reader) {
        OptionShape option;
        option.key = std::move(key);
        option.kind = kind;
        option.description = std::move(description);
        shape_->options.push_back(std::move(option));
        readers_.push_back(std::move(option_reader));
        return shape_->options.back();
    }

    OptionShape& add(std::string key, OptionKind kind, std::string description,
                     std::function<void(T&, ScalarValue)> store) {
        const std::size_t index = shape_->options.size();
        return add_reader(
            std::move(key), kind, std::move(description),
            [this_shape = shape_, index, store](T& out, const YAML::Node& node,
                                                const std::string& path, Reader& reader) {
                auto value = read_scalar(this_shape->options[index], node, path, reader);
                if (value) store(out, std::move(*value));
            });
    }

    std::shared_ptr<SectionShape> shape_;
    std::vector<OptionReader> readers_;
    Finisher finisher_;
};

}  // namespace fw::config_table
