"""Helpers of the benchmarks in bench/: one measurement per function (measure.py), the report (report.py)."""
