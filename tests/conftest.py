import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: BLAS threads would oversubscribe the 2 cores

import numpy as np  # noqa: E402
import pytest  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def small_phantom():
    """A small, fast phantom: 64², 8 frames, 4 coils."""
    from mrstudio.core.phantom import make_phantom

    return make_phantom(size=64, frames=8, coils=4, seed=3)


@pytest.fixture(scope="session")
def phantom128():
    from mrstudio.core.phantom import make_phantom

    return make_phantom(seed=20_000)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _unfreeze_gc():
    """A main window freezes the objects of its start-up out of the cyclic collector (gui/jobs.py); give them back
    after each test, so that one test's windows do not outlive it."""
    import gc

    yield
    gc.unfreeze()
