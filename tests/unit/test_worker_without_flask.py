"""The delivery worker runs without Flask: `ld-adapter worker` imports no web framework.

adapter.documents (PDFs) is checked too: the worker writes documents for MESH partners.
"""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import adapter.cli_delivery, adapter.exchange.worker, adapter.exchange.http_transport
import adapter.services.onward_checks, adapter.documents
web = sorted(name for name in sys.modules if name.split(".")[0] in ("flask", "werkzeug"))
print(",".join(web))
"""


def test_the_worker_and_its_transport_import_no_flask() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
