#include "framework/util/version.h"

#include "kprune_git_version.h"

namespace kprune {

std::string code_version() { return std::string(KPRUNE_VERSION) + " (git " + KPRUNE_GIT_VERSION + ")"; }

}  // namespace kprune
