#pragma once

namespace kprune {

// Peak resident set size of this process so far, in MiB.
double peak_rss_mb();

}  // namespace kprune
