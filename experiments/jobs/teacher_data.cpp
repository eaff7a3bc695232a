#include "experiments/jobs/teacher_data.h"

#include "experiments/jobs/task_data.h"
#include "framework/model/checkpoint.h"
#include "framework/tasks/evaluate.h"
#include "framework/tasks/tokenizer_files.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"

namespace kprune::jobs {

std::shared_ptr<TeacherData> load_teacher_data(const std::string& checkpoint, const TaskSpec& task,
                                               const std::string& data_dir, torch::Device device) {
  auto teacher = std::make_shared<TeacherData>();
  // The recorded sha256 must describe the weights loaded: a checkpoint replaced between the
  // hash and the load fails the job (a rerun loads the new one).
  const std::string weights = checkpoint + "/model.safetensors";
  const std::string identity = file_identity(weights);
  teacher->sha256 = sha256_file(weights);
  teacher->model = load_checkpoint(checkpoint, device);
  if (file_identity(weights) != identity) {
    fail("{}: the file changed while the job read it (replaced during the sweep?); rerun the job",
         weights);
  }
  check_head_matches_task(teacher->model->config(), task, checkpoint);
  const auto tokenizer = load_checkpoint_tokenizer(checkpoint);
  const EncoderConfig& config = teacher->model->config();
  teacher->train = load_task_split(task, data_dir, task.train_split, tokenizer, config);
  teacher->dev = load_task_split(task, data_dir, task.dev_split, tokenizer, config);
  teacher->seq_len = pruning_seq_len(task, teacher->dev);
  teacher->eval = evaluate_task(*teacher->model, teacher->dev, device);
  return teacher;
}

std::shared_ptr<TeacherData> cached_teacher_data(const sweep::JobSpec& spec,
                                                 sweep::WorkerContext& context,
                                                 const std::string& checkpoint,
                                                 const TaskSpec& task, torch::Device device,
                                                 bool& loaded) {
  loaded = false;
  return context.cached<TeacherData>(spec.cache_key + "/teacher", [&] {
    loaded = true;
    return load_teacher_data(checkpoint, task, task_data_dir(task, context), device);
  });
}

}  // namespace kprune::jobs
