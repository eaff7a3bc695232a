#include "framework/tasks/tokenizer_files.h"

#include <filesystem>

#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {

WordPieceTokenizer load_checkpoint_tokenizer(const std::string& dir) {
  bool lower_case = true;
  const std::string config_path = dir + "/tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    const nlohmann::json config = read_json_file(config_path);
    if (config.contains("do_lower_case")) {
      const auto& value = config.at("do_lower_case");
      if (!value.is_boolean()) {
        fail("{}: key 'do_lower_case': expected true or false, found {}", config_path,
             value.dump());
      }
      lower_case = value.get<bool>();
    }
  }
  return WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt", lower_case);
}

}  // namespace kprune
