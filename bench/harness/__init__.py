"""The benchmark harness behind bench/run_bench.py: config, processes, tools, steps, report, plots."""
