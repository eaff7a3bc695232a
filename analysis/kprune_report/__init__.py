"""kprune-report: paper-style tables and figures from a kprune-sweep results file (HDF5)."""
