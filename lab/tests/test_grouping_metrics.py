"""Loghub-2.0 parsing metrics on tiny hand-computed cases, and the benchmark's normalisation."""

from __future__ import annotations

import pytest

from medic_lab.grouping_metrics import grouping_accuracy, normalise_template, score_parsing


def test_normalisation_folds_variables_the_way_the_benchmark_does() -> None:
    assert normalise_template("took  5 ms") == "took <*> ms"  # digits-only tokens and whitespace runs
    assert normalise_template("from <*>:<*> via blk_<*>") == "from <*> via <*>"  # joined variables fold
    assert normalise_template('user "<*>" logged') == "user <*> logged"  # a quoted lone variable loses its quotes
    assert normalise_template("size=<*>, free <*>") == "size=<*>, free <*>"  # structure stays


def test_ga_fga_pa_and_fta_of_a_small_parse() -> None:
    # Truth: E1 x2, E2 x2, E3 x1. Parse: E1 exact (right template), E2 split in two, E3 exact (wrong template).
    truth_ids = ["E1", "E1", "E2", "E2", "E3"]
    truth_templates = ["open <*>", "open <*>", "close <*> now", "close <*> now", "fail <*>"]
    parsed_ids = [1, 1, 2, 3, 4]
    parsed_templates = ["open <*>", "open <*>", "close <*> now", "close x now", "fail bad"]
    scores = score_parsing(truth_ids=truth_ids, truth_templates=truth_templates, parsed_ids=parsed_ids,
                           parsed_templates=parsed_templates)  # fmt: skip
    assert scores.ga == pytest.approx(3 / 5)  # lines of E1 and E3
    # Groups: 2 of 4 predicted are correct, 2 of 3 truth groups found: P = 1/2, R = 2/3, F1 = 4/7.
    assert scores.fga == pytest.approx(4 / 7)
    assert scores.pa == pytest.approx(3 / 5)  # both E1 lines and the first E2 line have the right template
    # Templates: only E1 is both grouped and templated correctly: P = 1/4, R = 1/3, F1 = 2/7.
    assert scores.fta == pytest.approx(2 / 7)
    assert (scores.predicted_groups, scores.truth_groups) == (4, 3)


def test_lines_without_a_ground_truth_id_are_left_out_of_every_metric() -> None:
    scores = score_parsing(truth_ids=["E1", ""], truth_templates=["a", ""], parsed_ids=[1, 1], parsed_templates=["a", "a"])
    assert (scores.ga, scores.fga, scores.pa, scores.fta) == (1.0, 1.0, 1.0, 1.0)
    assert grouping_accuracy(["E1", "E1", ""], [1, 2, 3]) == 0.0
