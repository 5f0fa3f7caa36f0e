"""Is the watch window fully observed? The coverage rule on its own (domain.watch)."""

from __future__ import annotations

import pytest

from medic_releaser.domain.watch import WatchProgress, max_gap_for, sample_coverage, watch_progress


def test_regular_samples_cover_the_time_between_them() -> None:
    gap = max_gap_for(0.25)
    first = sample_coverage(last_at=100.0, now=100.25, max_gap_s=gap)
    assert first.covered_s == pytest.approx(0.25) and not first.after_gap


def test_a_crash_longer_than_the_window_counts_only_the_last_stretch_and_leaves_the_rest_to_observe() -> None:
    # Killed 4.5 s into a 12 s window, back 15 s later: the first sample vouches for one gap's worth, not 15 s.
    gap = max_gap_for(0.25)
    observed = 4.5
    after = sample_coverage(last_at=104.5, now=119.5, max_gap_s=gap)
    assert after.after_gap and after.gap_s == pytest.approx(15.0 - gap) and after.covered_s == pytest.approx(gap)
    progress = watch_progress(observed_s=observed + after.covered_s, window_s=12.0)
    assert progress.progress is WatchProgress.OBSERVING and not progress.complete
    assert progress.remaining_s == pytest.approx(12.0 - 4.5 - gap)


def test_the_window_is_complete_only_when_the_observed_time_covers_it() -> None:
    assert not watch_progress(observed_s=11.99, window_s=12.0).complete
    done = watch_progress(observed_s=12.0, window_s=12.0)
    assert done.complete and done.remaining_s == 0.0


def test_no_previous_look_or_a_clock_step_back_covers_nothing() -> None:
    assert sample_coverage(last_at=None, now=5.0, max_gap_s=1.0).covered_s == 0.0
    assert sample_coverage(last_at=10.0, now=9.0, max_gap_s=1.0).covered_s == 0.0
