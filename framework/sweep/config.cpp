#include "framework/sweep/config.h"

#include <fmt/format.h>

#include <filesystem>

#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include "framework/sweep/suggest.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/params.h"

namespace kprune::sweep {
namespace {

const std::vector<std::string> kTopLevelKeys = {"sweep", "data", "models", "grids", "pruners"};
const std::vector<std::string> kSweepKeys = {"name",        "output",  "device",      "seeds",
                                             "repetitions", "retries", "sample_size", "artifacts"};
const std::vector<std::string> kModelKeys = {"checkpoints", "checkpoint", "recipe", "description"};
const std::vector<std::string> kGridReservedKeys = {"kind", "zip", "include", "exclude"};
// One seed is made per repetition: a typo of a few extra digits must fail, not exhaust memory.
constexpr int64_t kMaxRepetitions = 10000;

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  void apply_override(toml::table& root, const std::string& item);
  SweepConfig read(const toml::table& root);

 private:
  std::string where(const toml::source_region& source) const;
  std::string where(const toml::node& node) const;
  std::string where(const toml::key& key) const;

  // Fails on any key of `table` not in `accepted`, naming the line and the closest key.
  void check_keys(const toml::table& table, const std::vector<std::string>& accepted,
                  const std::string& owner) const;
  const toml::table& as_table(const toml::node& node, const std::string& name) const;
  std::string scalar_text(const toml::node& node, const std::string& name) const;
  std::string string_value(const toml::node& node, const std::string& name) const;
  int64_t integer_value(const toml::node& node, const std::string& name) const;
  // A scalar is a one-value axis; an array of scalars is an axis with those values.
  Axis axis(const toml::key& key, const toml::node& node, const std::string& owner) const;
  std::vector<Axis> axes_of(const toml::table& table, const std::string& owner) const;

  void read_sweep(const toml::table& table, SweepSettings& sweep) const;
  ModelSpec read_model(const std::string& name, const toml::table& table) const;
  GridSpec read_grid(const std::string& name, const toml::table& table) const;

  std::string path_;
  // Nodes set on the command line have no place in the file; their override names them.
  std::map<const toml::node*, std::string> override_origin_;
};

std::string Reader::where(const toml::source_region& source) const {
  if (source.begin.line == 0) return fmt::format("{}: command line", path_);
  return fmt::format("{}:{}", path_, source.begin.line);
}

std::string Reader::where(const toml::node& node) const {
  auto it = override_origin_.find(&node);
  if (it != override_origin_.end()) return fmt::format("{}: command line '{}'", path_, it->second);
  return where(node.source());
}

std::string Reader::where(const toml::key& key) const { return where(key.source()); }

void Reader::check_keys(const toml::table& table, const std::vector<std::string>& accepted,
                        const std::string& owner) const {
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    if (std::find(accepted.begin(), accepted.end(), name) != accepted.end()) continue;
    const std::string place = key.source().begin.line != 0 ? where(key) : where(node);
    fail("{}: unknown key '{}' in {}{} (accepted: {})", place, name, owner,
         did_you_mean(name, accepted), fmt::join(accepted, ", "));
  }
}

const toml::table& Reader::as_table(const toml::node& node, const std::string& name) const {
  if (!node.is_table()) fail("{}: '{}' must be a table", where(node), name);
  return *node.as_table();
}

std::string Reader::scalar_text(const toml::node& node, const std::string& name) const {
  if (auto text = node.value_exact<std::string>()) return *text;
  if (auto integer = node.value_exact<int64_t>()) return std::to_string(*integer);
  if (auto real = node.value_exact<double>()) return canonical_number(*real);
  if (auto flag = node.value_exact<bool>()) return *flag ? "true" : "false";
  fail("{}: '{}' must be a string, number or boolean", where(node), name);
}

std::string Reader::string_value(const toml::node& node, const std::string& name) const {
  auto text = node.value_exact<std::string>();
  if (!text) fail("{}: '{}' must be a string", where(node), name);
  return *text;
}

int64_t Reader::integer_value(const toml::node& node, const std::string& name) const {
  auto integer = node.value_exact<int64_t>();
  if (!integer) fail("{}: '{}' must be an integer", where(node), name);
  return *integer;
}

Axis Reader::axis(const toml::key& key, const toml::node& node, const std::string& owner) const {
  Axis out{std::string(key.str()), {}, where(node)};
  const std::string name = owner + "." + out.key;
  if (const toml::array* array = node.as_array()) {
    if (array->empty())
      fail("{}: '{}' is an empty list: a grid axis needs values", out.where, name);
    for (const toml::node& element : *array) out.values.push_back(scalar_text(element, name));
  } else {
    out.values.push_back(scalar_text(node, name));
  }
  return out;
}

std::vector<Axis> Reader::axes_of(const toml::table& table, const std::string& owner) const {
  std::vector<Axis> out;
  for (auto&& [key, node] : table) out.push_back(axis(key, node, owner));
  return out;
}

void Reader::apply_override(toml::table& root, const std::string& item) {
  const size_t eq = item.find('=');
  if (eq == std::string::npos || eq == 0) {
    fail("command line: '{}' is not an override of the form section.key=value", item);
  }
  const std::string path = item.substr(0, eq);
  const std::string text = item.substr(eq + 1);
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  toml::table* table = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    toml::node* next = table->get(parts[i]);
    if (next == nullptr) {
      table->insert(parts[i], toml::table{});
      next = table->get(parts[i]);
    }
    if (!next->is_table()) {
      fail("command line '{}': '{}' is a value, not a table", item, parts[i]);
    }
    table = next->as_table();
  }
  // A value that is valid TOML keeps its type (numbers, booleans, lists); anything else is
  // a string, so `sweep.device=cpu` needs no quotes.
  toml::table parsed;
  try {
    parsed = toml::parse("value = " + text);
  } catch (const toml::parse_error&) {
    parsed.insert("value", text);
  }
  parsed.get("value")->visit([&](auto&& value) { table->insert_or_assign(parts.back(), value); });
  override_origin_[table->get(parts.back())] = item;
  if (toml::array* array = table->get(parts.back())->as_array()) {
    for (toml::node& element : *array) override_origin_[&element] = item;
  }
}

void Reader::read_sweep(const toml::table& table, SweepSettings& sweep) const {
  check_keys(table, kSweepKeys, "[sweep]");
  for (auto&& [key, node] : table) {
    const std::string name = "sweep." + std::string(key.str());
    sweep.where[std::string(key.str())] = where(node);
    if (key == "name") sweep.name = string_value(node, name);
    if (key == "output") sweep.output = string_value(node, name);
    if (key == "device") sweep.device = string_value(node, name);
    if (key == "artifacts") sweep.artifacts = string_value(node, name);
    if (key == "sample_size") sweep.sample_size = std::to_string(integer_value(node, name));
    if (key == "retries") sweep.retries = static_cast<int>(integer_value(node, name));
    if (key == "seeds") sweep.seeds = axis(key, node, "sweep").values;
    if (key == "repetitions") {
      if (table.contains("seeds"))
        fail("{}: give either seeds or repetitions, not both", where(node));
      const int64_t count = integer_value(node, name);
      if (count < 1 || count > kMaxRepetitions) {
        fail("{}: repetitions must be in [1, {}], found {}", where(node), kMaxRepetitions, count);
      }
      for (int64_t seed = 0; seed < count; ++seed) sweep.seeds.push_back(std::to_string(seed));
    }
  }
  if (sweep.artifacts.empty()) {
    std::filesystem::path stem(sweep.output);
    sweep.artifacts = stem.replace_extension(".artifacts").string();
  }
}

ModelSpec Reader::read_model(const std::string& name, const toml::table& table) const {
  const std::string owner = "[models." + name + "]";
  check_keys(table, kModelKeys, owner);
  ModelSpec model{name, where(table), {}, {}, "", {}};
  for (auto&& [key, node] : table) {
    if (key == "checkpoint") {
      model.checkpoints["*"] = string_value(node, "checkpoint");
      model.checkpoint_where["*"] = where(node);
    }
    if (key == "checkpoints") {
      for (auto&& [task, dir] : as_table(node, "checkpoints")) {
        model.checkpoints[std::string(task.str())] =
            string_value(dir, "checkpoints." + std::string(task.str()));
        model.checkpoint_where[std::string(task.str())] = where(dir);
      }
    }
    if (key == "recipe") {
      model.recipe_kind = "finetune";
      for (auto&& [recipe_key, value] : as_table(node, "recipe")) {
        if (recipe_key == "kind") {
          model.recipe_kind = string_value(value, "recipe.kind");
        } else {
          model.recipe.push_back(axis(recipe_key, value, owner + ".recipe"));
          if (model.recipe.back().values.size() != 1) {
            fail("{}: a recipe parameter takes one value", model.recipe.back().where);
          }
        }
      }
    }
  }
  if (model.checkpoints.empty() == model.recipe_kind.empty()) {
    fail("{}: {} needs either checkpoints (or checkpoint) or a recipe, not {}", model.where, owner,
         model.checkpoints.empty() ? "neither" : "both");
  }
  return model;
}

GridSpec Reader::read_grid(const std::string& name, const toml::table& table) const {
  const std::string owner = "grids." + name;
  GridSpec grid{name, "", where(table), {}, {}, {}, {}};
  const toml::node* kind = table.get("kind");
  if (kind == nullptr) fail("{}: [{}] needs kind = \"...\" (the job kind)", grid.where, owner);
  grid.kind = string_value(*kind, owner + ".kind");
  auto tables_of = [&](const toml::node& node, const std::string& key) {
    const toml::array* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      fail("{}: '{}.{}' must be an array of tables ([[{}.{}]])", where(node), owner, key, owner,
           key);
    }
    std::vector<const toml::table*> out;
    for (const toml::node& element : *array) out.push_back(element.as_table());
    return out;
  };
  for (auto&& [key, node] : table) {
    if (key == "kind") continue;
    if (key == "zip") {
      for (const toml::table* group : tables_of(node, "zip")) {
        std::vector<Axis> axes = axes_of(*group, owner + ".zip");
        for (const Axis& axis : axes) {
          if (axis.values.size() != axes.front().values.size()) {
            fail(
                "{}: zipped axes vary together and need equal lengths: '{}' has {} values, '{}' "
                "has {}",
                axis.where, axes.front().key, axes.front().values.size(), axis.key,
                axis.values.size());
          }
        }
        grid.zips.push_back(std::move(axes));
      }
    } else if (key == "include") {
      for (const toml::table* extra : tables_of(node, "include")) {
        grid.includes.push_back(axes_of(*extra, owner + ".include"));
      }
    } else if (key == "exclude") {
      for (const toml::table* rule : tables_of(node, "exclude")) {
        grid.excludes.push_back({axes_of(*rule, owner + ".exclude"), where(*rule)});
      }
    } else {
      grid.axes.push_back(axis(key, node, owner));
    }
  }
  for (const auto& group : grid.zips) {
    for (const Axis& zipped : group) {
      for (const Axis& axis : grid.axes) {
        if (axis.key == zipped.key) {
          fail("{}: '{}' is both a grid axis ({}) and in a zip group of [{}]", zipped.where,
               zipped.key, axis.where, owner);
        }
      }
    }
  }
  return grid;
}

SweepConfig Reader::read(const toml::table& root) {
  check_keys(root, kTopLevelKeys, "the top level");
  SweepConfig config;
  config.path = path_;
  if (const toml::node* sweep = root.get("sweep"))
    read_sweep(as_table(*sweep, "sweep"), config.sweep);
  if (const toml::node* data = root.get("data")) {
    for (auto&& [key, node] : as_table(*data, "data")) {
      config.data[std::string(key.str())] = string_value(node, "data." + std::string(key.str()));
      config.data_where[std::string(key.str())] = where(node);
    }
  }
  if (const toml::node* models = root.get("models")) {
    for (auto&& [key, node] : as_table(*models, "models")) {
      const std::string name(key.str());
      config.models[name] = read_model(name, as_table(node, "models." + name));
    }
  }
  if (const toml::node* pruners = root.get("pruners")) {
    for (auto&& [key, node] : as_table(*pruners, "pruners")) {
      const std::string name(key.str());
      config.pruners[name] = axes_of(as_table(node, "pruners." + name), "pruners." + name);
    }
  }
  const toml::node* grids = root.get("grids");
  if (grids == nullptr) fail("{}: no [grids.<name>] table: the sweep has no jobs", path_);
  for (auto&& [key, node] : as_table(*grids, "grids")) {
    const std::string name(key.str());
    config.grids.push_back(read_grid(name, as_table(node, "grids." + name)));
  }
  return config;
}

}  // namespace

SweepConfig parse_config(const std::string& text, const std::string& path,
                         const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    fail("{}:{}:{}: {}", path, error.source().begin.line, error.source().begin.column,
         error.description());
  }
  Reader reader(path);
  for (const std::string& item : overrides) reader.apply_override(root, item);
  SweepConfig config = reader.read(root);
  config.text = text;
  if (!overrides.empty()) {
    config.text += "\n# command-line overrides\n";
    for (const std::string& item : overrides) config.text += "# " + item + "\n";
  }
  return config;
}

SweepConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_config(read_file(path), path, overrides);
}

}  // namespace kprune::sweep
