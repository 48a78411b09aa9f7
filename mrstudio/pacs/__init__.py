"""PACS connectivity: query, retrieve and send series over DIMSE (pynetdicom) or DICOMweb (dicomweb-client).

Qt-free, below the workspace and beside ``recon``/``interp``: it imports only ``io`` and
``core``, and pynetdicom / dicomweb-client (the ``pacs`` extra) only inside the functions
that talk to a server, so ``import mrstudio.pacs`` works without them.

- :mod:`.nodes`     presets (``pacs.json``) and ``NODE`` = preset | ``AET@HOST:PORT`` | ``http(s)://`` root
- :mod:`.query`     search filters and the rows a search answers (patient, study, series)
- :mod:`.dimse`     C-ECHO, C-FIND, C-GET, C-MOVE (with MR Studio's storage SCP), C-STORE; TLS
- :mod:`.dicomweb`  QIDO-RS, WADO-RS, STOW-RS
- :mod:`.storage`   incoming instances → files, never over an existing one
- :mod:`.cache`     the retrieve cache; a retrieve completes or leaves nothing under its name
- :mod:`.client`    one entry per operation, whichever protocol; ``pacs://NODE/UID`` studies
- :mod:`.send`      what leaves: folders, result files, exports; the research-only rule
- :mod:`.anonymize` anonymised copies of DICOM files
"""

from .cache import is_pacs_url
from .nodes import Node, config_path, load_presets, parse_node
from .query import Query

__all__ = ["Node", "Query", "config_path", "is_pacs_url", "load_presets", "parse_node"]
