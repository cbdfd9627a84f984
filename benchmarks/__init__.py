"""Speed and memory benchmarks (`make bench`). Results are written down in benchmarks/RESULTS.md."""
