"""Tests of report.py's goal verdict. Run: python3 -m unittest discover -s benches"""

import unittest

from report import goal_lines


def row(workers=1, rps=1.05, cpu=0.95, p99=1.1, kib=1.5):
    return {
        "workers": workers,
        "proxy": "portcullis",
        "rps_vs_best_peer": rps,
        "cpu_ms_per_1k_vs_best_peer": cpu,
        "p99_ms_vs_best_peer": p99,
        "kib_per_idle_connection": kib,
    }


class GoalLines(unittest.TestCase):
    def test_a_row_within_every_bound_meets_every_goal(self):
        (line,) = goal_lines([row(), {"workers": 1, "proxy": "nginx"}])
        self.assertTrue(line.startswith("Goals at 1 worker(s): every goal met"), line)

    def test_the_bounds_themselves_are_met(self):
        (line,) = goal_lines([row(rps=1.0, cpu=1.0, p99=1.25, kib=4.0)])
        self.assertIn("every goal met", line)

    def test_a_ratio_that_prints_as_one_but_is_below_it_is_missed(self):
        (line,) = goal_lines([row(rps=0.998)])
        self.assertIn("missed: req/s 0.998× (≥ 1.0×)", line)

    def test_each_goal_is_checked_in_its_own_direction(self):
        (line,) = goal_lines([row(cpu=1.02, p99=1.3, kib=4.1)])
        missed = line.split("missed: ")[1].split(" — ")[0]
        self.assertEqual(
            missed,
            "CPU per request 1.020× (≤ 1.0×); p99 1.300× (≤ 1.25×); "
            "KiB per idle connection 4.100 (≤ 4.0)",
        )

    def test_a_missing_measurement_is_not_met(self):
        (line,) = goal_lines([row(kib=None)])
        self.assertIn("missed: KiB per idle connection n/a", line)

    def test_one_line_per_worker_count(self):
        lines = goal_lines([row(workers=1), row(workers=2, rps=0.9)])
        self.assertEqual(len(lines), 2)
        self.assertIn("1 worker(s): every goal met", lines[0])
        self.assertIn("2 worker(s): missed: req/s 0.900×", lines[1])


if __name__ == "__main__":
    unittest.main()
