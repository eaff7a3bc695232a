#pragma once
// Global threshold selection of algorithms.md 4.5 (KPMS), shared by K-prune and the one-shot
// baselines of section 7. Candidates are units (heads, neurons) with a score already divided
// by the unit's FLOPs and the unit's FLOPs (GFLOPs); the budget is in the same unit.
#include <string>
#include <vector>

namespace kprune {

// ref: the official code — float32 FLOPs arithmetic, strict inequalities, the lowest-scored
//      candidate always pruned, ties with the threshold pruned.
// clean: θ starts at −∞, kept FLOPs ≤ budget in float64, ties broken by candidate index
//      (lower index pruned first), so a budget covering everything prunes nothing.
enum class SelectionMode { ref, clean };

// "ref" | "clean"; anything else throws kprune::Error naming both.
SelectionMode parse_selection_mode(const std::string& text);
std::string to_string(SelectionMode mode);

// Keep-mask over the candidates (true = kept). `scores` and `unit_flops` have one entry per
// candidate. REF sums the FLOPs per distinct unit cost in float32 (as f32(cost)·f32(count),
// groups in order of first appearance, as the reference adds head then neuron FLOPs) and
// compares with f32(budget).
std::vector<bool> select_units(const std::vector<double>& scores,
                               const std::vector<double>& unit_flops, double budget,
                               SelectionMode mode);

// REF budget update after a sublayer: f32(budget) − f32(f32(kept)·f32(unit_flops)), the
// reference's float32 tensor arithmetic. CLEAN callers subtract in float64 instead.
float ref_budget_after(float budget, long kept, double unit_flops);

}  // namespace kprune
