import pytest

from mrstudio.core.jobs import Cancelled, CancelToken, Step, drive, sub_progress


def counting(n):
    for i in range(n):
        yield Step((i + 1) / n, f"step {i}")
    return "done"


def test_drive_reports_and_returns():
    seen = []
    assert drive(counting(4), progress=lambda f, m: seen.append(f)) == "done"
    assert seen == [0.25, 0.5, 0.75, 1.0]


def test_drive_cancels_between_steps():
    token = CancelToken()
    closed = []

    def gen():
        try:
            for i in range(100):
                if i == 3:
                    token.cancel()
                yield Step(i / 100)
        finally:
            closed.append(True)

    with pytest.raises(Cancelled):
        drive(gen(), cancel=token)
    assert closed == [True]


def test_sub_progress_maps_range():
    seen = []
    child = sub_progress(lambda f, m: seen.append(f), 0.5, 1.0)
    child(0.0, "")
    child(1.0, "")
    assert seen == [0.5, 1.0]
    assert sub_progress(None, 0, 1) is None
