"""DIMSE with pynetdicom: C-ECHO, C-FIND (patient, study, series), C-GET, C-MOVE and C-STORE.

One association per operation, opened by :func:`association`: the node's timeout bounds
connecting, the association (ACSE), each message (DIMSE) and the network; a refused or
dropped connection is tried again ``node.retries`` times; a failure becomes one line
naming the node and why (``association rejected (called AE title 'X' not recognised)``,
``no answer within 5 s``, ``connection refused``…). Sockets get TCP_NODELAY (DIMSE is
request/response: Nagle's algorithm would hold each message for a delayed ACK).

Series are found hierarchically (the studies that match, then their series), which every
PACS answers. A C-GET receives the instances on its own association; a C-MOVE sends them
to MR Studio's storage SCP, started on ``node.storage_port`` for the transfer and
refusing instances of any other series. pynetdicom's logging is silenced (its debug
output dumps identifiers: no patient data goes to the logs).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.jobs import CancelToken, Progress, check, report
from .nodes import Node
from .query import KEYS, Query, row_from
from .storage import IMAGE_STORAGE, TRANSFER_SYNTAXES, InstanceWriter

VERIFICATION = "1.2.840.10008.1.1"
PATIENT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_GET = "1.2.840.10008.5.1.4.1.2.2.3"
STUDY_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
UNCOMPRESSED = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
PENDING = (0xFF00, 0xFF01)
_REJECT = {  # (source, diagnostic) → why (PS3.8 9.3.4)
    (1, 1): "no reason given", (1, 2): "application context not supported",
    (1, 3): "calling AE title {calling!r} not recognised", (1, 7): "called AE title {called!r} not recognised",
    (2, 1): "no reason given", (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion", (3, 2): "local limit exceeded",
}


def need(module: str) -> None:
    """Import ``module`` or say, in one line, how to install it (the ``pacs`` extra)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        from ..core.errors import StudyError

        raise StudyError("PACS", f"needs {module.split('.')[0]}, which is not installed "
                                 "(pip install 'mrstudio[pacs]')") from None


def quiet_logs() -> None:
    """Keep pynetdicom (and the HTTP stack) from logging identifiers, whatever the root logger's level."""
    import logging

    need("pynetdicom")
    from pynetdicom import _config

    _config.LOG_HANDLER_LEVEL = "none"
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False
    for name in ("pynetdicom", "dicomweb_client", "urllib3.connectionpool"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _nodelay(event) -> None:
    with contextlib.suppress(OSError, AttributeError):
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _ae(node: Node):
    quiet_logs()
    from pynetdicom import AE

    ae = AE(ae_title=node.calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = float(node.timeout)
    return ae


def tls_context(node: Node, server: bool = False):
    """The node's TLS context (``None`` without TLS): its CA (else the system's), its client certificate."""
    if not node.tls:
        return None
    import ssl

    try:
        if server:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=node.tls_ca)
        else:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=node.tls_ca)
        if node.tls_cert:
            ctx.load_cert_chain(node.tls_cert, node.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise node.error(f"TLS files unusable ({exc.strerror or exc})") from None
    if server and not node.tls_cert:
        raise node.error("a TLS storage SCP (retrieve: move) needs tls_cert and tls_key")
    return ctx


def _diagnose(node: Node, ctx) -> tuple[str, bool]:
    """Why no connection opened: ``(reason, worth retrying)``."""
    try:
        sock = socket.create_connection((node.host, node.port), timeout=node.timeout)
    except TimeoutError:
        return f"no answer within {node.timeout:g} s (connecting)", False
    except ConnectionRefusedError:
        return f"connection refused (nothing listens on port {node.port})", True
    except socket.gaierror:
        return f"unknown host {node.host!r}", False
    except OSError as exc:
        return f"cannot connect ({exc.strerror or type(exc).__name__})", True
    with sock:
        if ctx is None:
            return "cannot connect (the connection closed at once)", True
        import ssl

        try:
            with ctx.wrap_socket(sock, server_hostname=node.tls_hostname or node.host):
                pass
        except ssl.SSLError as exc:
            return f"TLS handshake failed ({exc.reason or exc})", False
        except OSError as exc:
            return f"TLS handshake failed ({exc.strerror or type(exc).__name__})", False
    return "cannot connect", True


def _failure(node: Node, assoc, opened: bool, elapsed: float, ctx) -> tuple[str, bool]:
    """Why an association was not established: ``(reason, worth retrying)``."""
    if assoc.is_rejected:
        rj = assoc.acceptor.primitive
        why = _REJECT.get((rj.result_source, rj.diagnostic), f"source {rj.result_source}, reason {rj.diagnostic}")
        why = why.format(calling=node.calling_aet, called=node.aet)
        transient = rj.result == 2
        return f"association rejected ({why}{', transient' if transient else ''})", transient
    if not opened:
        return _diagnose(node, ctx)
    if elapsed >= 0.9 * node.timeout:
        return f"no answer within {node.timeout:g} s", False
    hint = "" if node.tls else " (a TLS port? then set \"tls\": true for the node)"
    return f"association aborted by the peer{hint}", True


@contextlib.contextmanager
def association(node: Node, contexts: list[tuple[str, list[str]]], roles: list | None = None,
                handlers: list | None = None, cancel: CancelToken | None = None) -> Iterator[Any]:
    """An established association with ``node`` proposing ``contexts`` (abstract syntax, transfer syntaxes).

    Released on leaving the block, aborted on an exception; a failure to associate raises
    the node's one-line :class:`~mrstudio.core.errors.StudyError`.
    """
    if node.host is None:
        raise node.error("has no DIMSE address (aet, host, port); it is a DICOMweb node")
    ae = _ae(node)
    from pynetdicom import evt

    for abstract, syntaxes in contexts:
        ae.add_requested_context(abstract, syntaxes)
    ctx = tls_context(node)
    tls = (ctx, node.tls_hostname or node.host) if ctx is not None else None
    opened: list[bool] = []

    def on_open(event) -> None:
        opened.append(True)
        _nodelay(event)

    for attempt in range(node.retries + 1):
        check(cancel)
        opened.clear()
        t0 = time.monotonic()
        assoc = ae.associate(node.host, node.port, ae_title=node.aet, ext_neg=roles or None, tls_args=tls,
                             evt_handlers=[(evt.EVT_CONN_OPEN, on_open), *(handlers or [])])
        if assoc.is_established:
            break
        reason, transient = _failure(node, assoc, bool(opened), time.monotonic() - t0, ctx)
        if not transient or attempt == node.retries:
            raise node.error(reason + (f" (after {attempt + 1} attempts)" if attempt else ""))
        time.sleep(0.5)
    try:
        yield assoc
    except BaseException:
        assoc.abort()
        raise
    if assoc.is_established:
        assoc.release()


def _lost(node: Node, assoc, what: str) -> Exception:
    if assoc.is_aborted or not assoc.is_established:
        return node.error(f"connection lost during {what}")
    return node.error(f"no answer within {node.timeout:g} s during {what}")


def _status_error(node: Node, status, what: str) -> Exception:
    comment = status.get("ErrorComment")
    return node.error(f"{what} failed (status 0x{int(status.Status):04X}{': ' + str(comment) if comment else ''})")


def echo(node: Node) -> float:
    """C-ECHO; the round trip in seconds."""
    with association(node, [(VERIFICATION, UNCOMPRESSED)]) as assoc:
        t0 = time.perf_counter()
        status = assoc.send_c_echo()
        if not status or "Status" not in status:
            raise _lost(node, assoc, "C-ECHO")
        if status.Status != 0:
            raise _status_error(node, status, "C-ECHO")
        return time.perf_counter() - t0


def _identifier(level: str, matching: dict[str, str], returned: list[str]):
    from pydicom.dataset import Dataset

    ds = Dataset()
    if any(not str(v).isascii() for v in matching.values()):
        ds.SpecificCharacterSet = "ISO_IR 192"
    ds.QueryRetrieveLevel = level.upper()
    for kw in returned:
        setattr(ds, kw, "")
    for kw, v in matching.items():
        setattr(ds, kw, v)
    return ds


def _c_find(node: Node, assoc, model: str, level: str, matching: dict[str, str], cancel) -> list[dict[str, Any]]:
    rows = []
    for status, ident in assoc.send_c_find(_identifier(level, matching, list(KEYS[level].values())), model):
        check(cancel)
        if not status or "Status" not in status:
            raise _lost(node, assoc, "C-FIND")
        if status.Status in PENDING:
            if ident is not None:
                rows.append(row_from({kw: ident.get(kw) for kw in KEYS[level].values()}, level))
        elif status.Status != 0:
            raise _status_error(node, status, "C-FIND")
    return rows


def find(node: Node, query: Query, level: str = "series", cancel: CancelToken | None = None) -> list[dict[str, Any]]:
    """C-FIND at ``level`` (``"patient"``, ``"study"``, ``"series"``): one row per match (:mod:`.query`)."""
    model = PATIENT_FIND if level == "patient" else STUDY_FIND
    with association(node, [(model, UNCOMPRESSED)], cancel=cancel) as assoc:
        if level != "series":
            return _c_find(node, assoc, model, level, query.matching(level), cancel)
        if query.series_uid and not query.study_uid:  # locating one series: a relational query first
            rows = _c_find(node, assoc, model, "series", query.matching("series"), cancel)
            if rows:
                return [r for r in rows if query.keep(r)]
        out = []
        for study in _c_find(node, assoc, model, "study", query.matching("study"), cancel):
            if not study["study_uid"]:
                continue
            sub = {**query.matching("series"), "StudyInstanceUID": study["study_uid"]}
            for k in ("PatientName", "PatientID", "StudyDate"):  # study-level keys: already matched
                sub.pop(k, None)
            for row in _c_find(node, assoc, model, "series", sub, cancel):
                row.update({k: row.get(k) or study.get(k) for k in ("patient_name", "patient_id", "study_date",
                                                                     "study_description", "study_uid")})
                if query.keep(row):
                    out.append(row)
        return out


def _drive_retrieve(node: Node, assoc, responses, writer: InstanceWriter, expected: int | None, what: str,
                    progress: Progress | None, cancel: CancelToken | None) -> int:
    final = None
    last = time.monotonic()
    for status, _ident in responses:
        check(cancel)
        if not status or "Status" not in status:
            why = (f"no answer within {node.timeout:g} s" if time.monotonic() - last >= 0.9 * node.timeout
                   else "connection lost")
            raise node.error(f"{why} during {what} after {writer.count} of {expected or '?'} instances")
        last = time.monotonic()
        if status.Status in PENDING:
            done = sum(int(status.get(k) or 0) for k in ("NumberOfCompletedSuboperations",
                                                         "NumberOfFailedSuboperations", "NumberOfWarningSuboperations"))
            total = done + int(status.get("NumberOfRemainingSuboperations") or 0) or expected or 1
            report(progress, done / total, f"{writer.count}/{total} instances")
            continue
        final = status
    if final is None:
        raise _lost(node, assoc, what)
    code = int(final.Status)
    failed = int(final.get("NumberOfFailedSuboperations") or 0)
    if code == 0xA801:
        raise node.error(f"the PACS does not know {node.calling_aet!r} as a move destination (register that AE title "
                         f"at this computer's port {node.storage_port}, or use \"retrieve\": \"get\")")
    if code == 0xFE00:
        raise node.error(f"{what} cancelled by the PACS after {writer.count} instances")
    if code not in (0x0000, 0xB000):
        raise _status_error(node, final, what)
    if failed or code == 0xB000 or writer.refused:
        raise node.error(f"{what} incomplete: {failed + writer.refused} sub-operation(s) failed, "
                         f"{writer.count} instance(s) arrived")
    if writer.count == 0:
        raise node.error(f"{what} brought no instances")
    if expected and writer.count < expected:
        raise node.error(f"{what} incomplete: {writer.count} of {expected} instances arrived")
    return writer.count


def _series_identifier(study_uid: str, series_uid: str):
    return _identifier("series", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid}, [])


def get(node: Node, study_uid: str, series_uid: str, folder: Path, expected: int | None = None,
        progress: Progress | None = None, cancel: CancelToken | None = None) -> int:
    """C-GET a series into ``folder``; the number of instances received."""
    need("pynetdicom")
    from pynetdicom import build_role, evt

    writer = InstanceWriter(folder, series_uid)
    contexts = [(STUDY_GET, UNCOMPRESSED)] + [(sop, TRANSFER_SYNTAXES) for sop in IMAGE_STORAGE.values()]
    roles = [build_role(sop, scp_role=True) for sop in IMAGE_STORAGE.values()]
    with association(node, contexts, roles, [(evt.EVT_C_STORE, writer.store)], cancel) as assoc:
        responses = assoc.send_c_get(_series_identifier(study_uid, series_uid), STUDY_GET)
        return _drive_retrieve(node, assoc, responses, writer, expected, "C-GET", progress, cancel)


def move(node: Node, study_uid: str, series_uid: str, folder: Path, expected: int | None = None,
         progress: Progress | None = None, cancel: CancelToken | None = None) -> int:
    """C-MOVE a series to MR Studio's own storage SCP (on ``node.storage_port``), which writes into ``folder``."""
    need("pynetdicom")
    from pynetdicom import AE, evt

    writer = InstanceWriter(folder, series_uid)
    scp = AE(ae_title=node.calling_aet)
    scp.acse_timeout = scp.dimse_timeout = scp.network_timeout = float(node.timeout)
    for sop in IMAGE_STORAGE.values():
        scp.add_supported_context(sop, TRANSFER_SYNTAXES)
    try:
        server = scp.start_server(("", node.storage_port), block=False, ssl_context=tls_context(node, server=True),
                                  evt_handlers=[(evt.EVT_C_STORE, writer.store), (evt.EVT_CONN_OPEN, _nodelay)])
    except OSError as exc:
        raise node.error(f"cannot listen for the C-MOVE on port {node.storage_port} ({exc.strerror or exc})") from None
    try:
        with association(node, [(STUDY_MOVE, UNCOMPRESSED)], cancel=cancel) as assoc:
            responses = assoc.send_c_move(_series_identifier(study_uid, series_uid), node.calling_aet, STUDY_MOVE)
            return _drive_retrieve(node, assoc, responses, writer, expected, "C-MOVE", progress, cancel)
    finally:
        server.shutdown()


def store(node: Node, files: list[Path], progress: Progress | None = None, cancel: CancelToken | None = None,
          read: Callable[[Path], Any] | None = None) -> int:
    """C-STORE ``files``; the number stored. Any refused instance is an error (after trying them all)."""
    import pydicom

    read = read or (lambda p: pydicom.dcmread(p))
    heads = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    wanted: dict[str, list[str]] = {}
    for h in heads:
        sop, ts = str(h.SOPClassUID), str(h.file_meta.TransferSyntaxUID)
        syntaxes = wanted.setdefault(sop, list(UNCOMPRESSED))
        if ts not in syntaxes:
            syntaxes.insert(0, ts)
    if len(wanted) > 128:
        raise node.error(f"{len(wanted)} SOP classes in one send; at most 128 fit an association")
    refused: list[tuple[Path, int]] = []
    n = len(files)
    with association(node, list(wanted.items()), cancel=cancel) as assoc:
        for i, path in enumerate(files):
            check(cancel)
            try:
                status = assoc.send_c_store(read(path))
            except ValueError:  # no accepted presentation context for this SOP class / transfer syntax
                h = heads[i]
                raise node.error(f"accepts no presentation context for {path.name} (SOP class {h.SOPClassUID}, "
                                 f"transfer syntax {h.file_meta.TransferSyntaxUID})") from None
            if not status or "Status" not in status:
                raise node.error(f"connection lost during C-STORE after {i} of {n} instances")
            if int(status.Status) not in (0x0000, 0xB000, 0xB006, 0xB007):
                refused.append((path, int(status.Status)))
            report(progress, (i + 1) / n, f"sent {i + 1}/{n}")
    if refused:
        path, code = refused[0]
        raise node.error(f"{len(refused)} of {n} instances refused (status 0x{code:04X} for {path.name})")
    return n
