#pragma once
// `finetune`: trains a teacher into <artifacts>/<job id> (the directory `kprune finetune`
// writes), usually as a model's recipe that the grid's prune jobs wait for. Parameters:
//   task (required), init_checkpoint=DIR or a random init of model_type/layers/hidden/heads/
//   ffn/max_position/dropout, steps or epochs, batch_size, lr, warmup, weight_decay,
//   max_grad_norm, eval_every, max_seq_len, max_train_examples, cased, seed; model and tag are
//   labels. Data: task_data.h; random init uses the data's vocab.txt or bert-base-uncased's.
#include "framework/sweep/job.h"

namespace kprune::jobs {

sweep::JobKind finetune_job_kind();

}  // namespace kprune::jobs
