#include "framework/prune/kcm.h"
#include "framework/prune/kprune.h"
#include "framework/prune/kwon.h"
#include "framework/prune/magnitude.h"
#include "framework/prune/pruner.h"
#include "framework/prune/random_pruner.h"

namespace kprune {

// One line per pruner; the order is the order of `kprune prune --list`.
const std::vector<PrunerInfo>& pruner_registry() {
  static const std::vector<PrunerInfo> registry = {
      kprune_pruner_info(), kwon_pruner_info(),      kwon_notune_pruner_info(),
      fisher_pruner_info(), magnitude_pruner_info(), random_pruner_info(),
      kcm_pruner_info(),
  };
  return registry;
}

}  // namespace kprune
