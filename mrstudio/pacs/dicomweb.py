"""DICOMweb with dicomweb-client: QIDO-RS search, WADO-RS retrieve of a series, STOW-RS store.

The same rows, writer and errors as :mod:`.dimse`: a search answers the rows of
:mod:`.query`, a retrieve streams the instances into an :class:`~.storage.InstanceWriter`,
and every HTTP failure becomes one line naming the node (``no answer within 5 s``,
``connection refused``, ``HTTP 404 …``) without the request URL, whose query may hold a
patient's name. A refused connection is tried again ``node.retries`` times.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ..core.jobs import CancelToken, Progress, check, report
from .nodes import Node
from .query import KEYS, Query, row_from
from .storage import InstanceWriter

T = TypeVar("T")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")  # what the query string escapes
STOW_BATCH = 10  # instances per STOW-RS request


def _client(node: Node):
    from .dimse import need, quiet_logs

    if node.dicomweb is None:
        raise node.error("has no DICOMweb root (dicomweb); it is a DIMSE node")
    need("dicomweb_client")
    quiet_logs()
    import requests
    from dicomweb_client.api import DICOMwebClient

    session = requests.Session()
    if node.tls_ca:
        session.verify = node.tls_ca
    if node.tls_cert:
        session.cert = (node.tls_cert, node.tls_key) if node.tls_key else node.tls_cert
    client = DICOMwebClient(node.dicomweb, session=session, timeout=float(node.timeout))
    client.set_http_retry_params(retry=False)  # ours below: only refused connections, quickly
    return client


def _refused(exc: BaseException) -> bool:
    seen = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "Connection refused" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def _errors(node: Node, what: str, progress_text: Callable[[], str] = lambda: "") -> Iterator[None]:
    """HTTP failures → the node's one-line error (no URL: it may hold patient names)."""
    import requests

    try:
        yield
    except requests.exceptions.HTTPError as exc:
        r = exc.response
        code = r.status_code if r is not None else "?"
        reason = (r.reason if r is not None else "") or ""
        raise node.error(f"{what}: HTTP {code} {reason}".rstrip() + progress_text()) from None
    except requests.exceptions.SSLError as exc:
        raise node.error(f"TLS handshake failed during {what} ({type(exc).__name__})") from None
    except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout):
        raise node.error(f"no answer within {node.timeout:g} s during {what}" + progress_text()) from None
    except requests.exceptions.ConnectionError as exc:
        if _refused(exc):
            raise node.error(f"connection refused during {what}" + progress_text()) from None
        raise node.error(f"connection lost during {what}" + progress_text()) from None
    except requests.exceptions.ChunkedEncodingError:
        raise node.error(f"connection lost during {what}" + progress_text()) from None
    except requests.exceptions.RequestException as exc:
        raise node.error(f"{what} failed ({type(exc).__name__})") from None


def _retrying(node: Node, call: Callable[[], T], cancel: CancelToken | None = None) -> T:
    import requests

    for attempt in range(node.retries + 1):
        check(cancel)
        try:
            return call()
        except requests.exceptions.ConnectionError as exc:
            if attempt == node.retries or not _refused(exc):
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")  # pragma: no cover


def _rows(items: list[dict], level: str) -> list[dict[str, Any]]:
    from pydicom.dataset import Dataset

    out = []
    for item in items:
        ds = Dataset.from_json(item)
        out.append(row_from({kw: ds.get(kw) for kw in KEYS[level].values()}, level))
    return out


def _search(node: Node, search: Callable[[dict[str, str]], list[dict]], filters: dict[str, str],
            cancel: CancelToken | None) -> list[dict]:
    """QIDO-RS with ``filters``; when nothing matched a patient filter that had to be percent-escaped in the
    URL, ask again without it (the rows are matched here, :meth:`~.query.Query.keep_patient`): Orthanc's
    DICOMweb plugin (1.7, on Orthanc 1.10) does not decode escapes, so ``DOE%5EJANE`` matches nothing."""
    items = _retrying(node, lambda: search(filters), cancel)
    escaped = {k for k, v in filters.items() if k in ("PatientName", "PatientID") and _UNSAFE.search(v)}
    if not items and escaped:
        items = _retrying(node, lambda: search({k: v for k, v in filters.items() if k not in escaped}), cancel)
    return items


def echo(node: Node) -> float:
    """A QIDO-RS study search for one result: the round trip in seconds."""
    client = _client(node)
    t0 = time.perf_counter()
    with _errors(node, "QIDO-RS"):
        _retrying(node, lambda: client.search_for_studies(limit=1, fields=["StudyInstanceUID"]))
    return time.perf_counter() - t0


def find(node: Node, query: Query, level: str = "series", cancel: CancelToken | None = None) -> list[dict[str, Any]]:
    """QIDO-RS at ``level``: the rows of :mod:`.query` (patients from a study search)."""
    client = _client(node)
    fields = [kw for kw in KEYS[level].values()]
    with _errors(node, "QIDO-RS"):
        if level == "series":
            items = _search(node, lambda f: client.search_for_series(search_filters=f, fields=fields, get_remaining=True),
                            query.matching("series"), cancel)
            return [r for r in _rows(items, "series") if query.keep(r) and query.keep_patient(r)]
        items = _search(node, lambda f: client.search_for_studies(search_filters=f, fields=list(KEYS["study"].values()),
                                                                  get_remaining=True), query.matching("study"), cancel)
    studies = [r for r in _rows(items, "study") if query.keep_patient(r)]
    if level == "study":
        return studies
    patients: dict[tuple, dict[str, Any]] = {}  # QIDO-RS has no patient level: one row per patient of the studies
    for s in studies:
        p = patients.setdefault((s["patient_id"], s["patient_name"]), {"patient_name": s["patient_name"],
                                                                       "patient_id": s["patient_id"],
                                                                       "birth_date": None, "studies": 0})
        p["studies"] += 1
    return list(patients.values())


def retrieve(node: Node, study_uid: str, series_uid: str, folder: Path, expected: int | None = None,
             progress: Progress | None = None, cancel: CancelToken | None = None) -> int:
    """WADO-RS: stream a series' instances into ``folder``; the number received."""
    client = _client(node)
    writer = InstanceWriter(folder, series_uid)

    def so_far() -> str:
        return f" after {writer.count} of {expected or '?'} instances"

    with _errors(node, "WADO-RS", so_far):
        instances = _retrying(node, lambda: client.iter_series(study_uid, series_uid), cancel)
        for ds in instances:
            check(cancel)
            if not writer.accepts(ds.get("SeriesInstanceUID")):
                raise node.error("WADO-RS answered an instance of another series")
            writer.write_dataset(ds)
            report(progress, writer.count / (expected or writer.count + 1), f"{writer.count}/{expected or '?'} instances")
    if writer.count == 0:
        raise node.error("WADO-RS brought no instances")
    if expected and writer.count < expected:
        raise node.error(f"WADO-RS incomplete: {writer.count} of {expected} instances arrived")
    return writer.count


def store(node: Node, files: list[Path], progress: Progress | None = None, cancel: CancelToken | None = None) -> int:
    """STOW-RS ``files`` in batches; the number stored. Any failed instance is an error."""
    import pydicom

    client = _client(node)
    n = len(files)
    failed = 0
    for start in range(0, n, STOW_BATCH):
        check(cancel)
        batch = [pydicom.dcmread(p) for p in files[start:start + STOW_BATCH]]
        with _errors(node, "STOW-RS", lambda s=start: f" after {s} of {n} instances"):
            answer = _retrying(node, lambda b=batch: client.store_instances(b), cancel)
        failed += len(answer.get("FailedSOPSequence", []) or []) if answer is not None else 0
        report(progress, min(start + STOW_BATCH, n) / n, f"sent {min(start + STOW_BATCH, n)}/{n}")
    if failed:
        raise node.error(f"STOW-RS: {failed} of {n} instances refused")
    return n
