#pragma once
// `pretrain`: masked-language-model pretraining of an encoder into <artifacts>/<job id> (the
// directory `kprune pretrain` writes), usually a model's recipe that finetune jobs start from
// (`init_model`, framework/sweep/README.md). Resumes an interrupted attempt from its last saved
// state. Parameters: init_checkpoint (or a recipe's `init_model`: a further phase from another
// pretrain model, whose shape then applies), model_type/layers/hidden/heads/ffn/max_position,
// seq_len, steps, batch_size, lr, warmup, weight_decay, max_grad_norm, save_every, seed;
// corpus=FILE, else <artifacts>/corpus.txt, written when missing as `kprune pretrain-corpus` does
// (WikiText-2 valid/test from the [data] entry `wikitext` or ../shared/data/corpus/wikitext-2, and
// the train sentences of SST-2, MRPC, STS-B and QQP from their data directories, task_data.h); the
// vocab is the [data] entry `vocab` or bert-base-uncased's. model and tag are labels.
#include "framework/sweep/job.h"

namespace kprune::jobs {

sweep::JobKind pretrain_job_kind();

}  // namespace kprune::jobs
