#pragma once
// The parameters the finetune and pretrain jobs share: the shape of a randomly initialised
// encoder (TeacherRecipe, PretrainRecipe) and the AdamW schedule (FinetuneOptions,
// PretrainOptions); absent keys keep the recipe's defaults.
#include "framework/model/precision.h"
#include "framework/util/params.h"

namespace kprune::jobs {

template <typename Recipe>
void read_shape_params(const Params& p, Recipe& recipe) {
  recipe.model_type = p.get_string("model_type", recipe.model_type);
  recipe.layers = p.get_int("layers", recipe.layers);
  recipe.hidden = p.get_int("hidden", recipe.hidden);
  recipe.heads = p.get_int("heads", recipe.heads);
  recipe.ffn = p.get_int("ffn", recipe.ffn);
  recipe.max_position = p.get_int("max_position", recipe.max_position);
}

template <typename Options>
void read_optimizer_params(const Params& p, Options& o) {
  o.max_steps = p.get_int("steps", o.max_steps);
  o.batch_size = p.get_int("batch_size", o.batch_size);
  o.learning_rate = p.get_double("lr", o.learning_rate);
  o.warmup_ratio = p.get_double("warmup", o.warmup_ratio);
  o.weight_decay = p.get_double("weight_decay", o.weight_decay);
  o.max_grad_norm = p.get_double("max_grad_norm", o.max_grad_norm);
  o.seed = static_cast<uint64_t>(p.get_int("seed", 0));
  o.precision = parse_precision(p.get_string("precision", precision_name(o.precision)));
}

}  // namespace kprune::jobs
