#pragma once
// The eight GLUE tasks in the GLUE distribution's TSV layout.
//
// Label indices follow the HuggingFace `datasets` GLUE configs (what fine-tuned HF checkpoints
// were trained with): MNLI entailment=0, neutral=1, contradiction=2; QNLI/RTE entailment=0,
// not_entailment=1; CoLA/SST-2/MRPC/QQP as written ("0"/"1").
#include <vector>

#include "framework/tasks/task.h"

namespace kprune {

std::vector<TaskSpec> glue_task_specs();
// SST-2 alone, for tasks that reuse its format (the synthetic demo task).
TaskSpec glue_sst2_task_spec();

}  // namespace kprune
