"""Decoders for compressed DICOM pixel data: GDCM through pydicom, plus 12-bit JPEG.

MR Studio depends on **python-gdcm** (GDCM is BSD-licensed, its Python wrapper
Apache-2.0): one package that decodes JPEG Lossless (processes 14 and 14 SV1, the most
common lossless syntax in PACS), JPEG-LS lossless and near-lossless, JPEG Baseline and
JPEG 2000; pydicom decodes RLE, deflate and big endian itself. The alternative,
pylibjpeg-libjpeg, is GPL-3, which an MIT-licensed application bundle cannot carry.

pydicom's GDCM plugin refuses JPEG Extended with 12-bit samples (1.2.840.10008.1.2.4.51),
although GDCM decodes it; :func:`register` adds a small plugin of ours for that syntax.
GDCM's bundled libjpeg prints a probing message to the process's stderr for 12-bit
streams; the plugin silences file descriptor 2 while it decodes (under a lock), so the
CLI's one-line error contract holds.
"""

from __future__ import annotations

import contextlib
import os
import threading

JPEG_EXTENDED_12BIT = "1.2.840.10008.1.2.4.51"
DECODER_DEPENDENCIES = {JPEG_EXTENDED_12BIT: ("gdcm",)}  # pydicom's plugin protocol
_PLUGIN = "mrstudio-gdcm-jpeg12"
_LOCK = threading.Lock()
_registered = False


def is_available(uid: str) -> bool:  # pydicom plugin protocol
    try:
        import gdcm  # noqa: F401
    except ImportError:
        return False
    return uid == JPEG_EXTENDED_12BIT


@contextlib.contextmanager
def _quiet_stderr_fd():
    with _LOCK:
        saved = os.dup(2)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _decode_frame(src: bytes, runner) -> bytes:  # pydicom plugin protocol: one encoded frame → raw bytes
    import gdcm

    fragment = gdcm.Fragment()
    fragment.SetByteStringValue(src)
    fragments = gdcm.SequenceOfFragments.New()
    fragments.AddFragment(fragment)
    element = gdcm.DataElement(gdcm.Tag(0x7FE0, 0x0010))
    element.SetValue(fragments.__ref__())
    image = gdcm.Image()
    image.SetNumberOfDimensions(2)
    image.SetDimensions((runner.columns, runner.rows, 1))
    image.SetDataElement(element)
    pi = gdcm.PhotometricInterpretation.GetPIType(str(runner.photometric_interpretation))
    image.SetPhotometricInterpretation(gdcm.PhotometricInterpretation(pi))
    if runner.samples_per_pixel > 1:
        image.SetPlanarConfiguration(runner.planar_configuration)
    image.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.GetTSType(JPEG_EXTENDED_12BIT)))
    bits = runner.bits_stored
    image.SetPixelFormat(gdcm.PixelFormat(runner.samples_per_pixel, runner.bits_allocated, bits, bits - 1,
                                          runner.pixel_representation))
    with _quiet_stderr_fd():
        buffer = image.GetBuffer()
    out = buffer.encode("utf-8", "surrogateescape")  # SWIG hands the bytes back as a str
    expected = runner.rows * runner.columns * runner.samples_per_pixel * runner.bits_allocated // 8
    if len(out) != expected:
        raise RuntimeError(f"GDCM returned {len(out)} bytes for a frame of {expected}")
    return out


def register() -> None:
    """Add the 12-bit JPEG plugin to pydicom's decoder (idempotent; a no-op without GDCM)."""
    global _registered
    if _registered:
        return
    _registered = True
    try:
        from pydicom.pixels import get_decoder

        decoder = get_decoder(JPEG_EXTENDED_12BIT)
        if _PLUGIN not in decoder.available_plugins:
            decoder.add_plugin(_PLUGIN, (__name__, "_decode_frame"))
    except Exception:  # an older pydicom without the plugin API: its own decoders only
        pass
