#pragma once
// Random baseline (algorithms.md 7.1): i.i.d. U(0,1) score per unit from its own generator
// seeded with `seed`; one global selection (global_selection.h).
#include "framework/prune/pruner.h"

namespace kprune {

PrunerInfo random_pruner_info();

}  // namespace kprune
