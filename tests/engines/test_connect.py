"""The DuckDB connections burnout makes for its own work (engines/connect.py).

DuckDB draws a progress bar on standard output for any query that runs longer than two
seconds (a large cohort's), in the middle of the command's own output, even when that
output goes to a file. Found by running ``burnout validate`` on a store of 1M patients
whose plan differs from the import's (its tables are validated again).

DuckDB turns its bar on by default only when standard output is the process's own (under
pytest's capture it is off anyway), so the connections are made in a child process
whose output goes to a file, as a command's does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from burnout.importer import import_cohort
from cohortfactory import mbi_rows, write_cohort

_CONNECTIONS = """
import json, sys
import ibis
from burnout.analysis import connect
from burnout.engines import connect_source, duckdb_in_memory
from burnout.ingest import read_cohort

folder, store = sys.argv[1], sys.argv[2]
made = {
    "duckdb's default": ibis.duckdb.connect(),
    "in-memory": duckdb_in_memory(),
    "analysis-connect": connect(),  # the library's analyze(..., con=connect())
    "folder": connect_source(folder),
    "store": connect_source(store),  # a validated store, attached read-only
    "read-cohort": read_cohort(folder).con,  # load_cohort without a connection
}
query = "SELECT current_setting('enable_progress_bar')"
print(json.dumps({name: con.con.execute(query).fetchone()[0] for name, con in made.items()}))
"""


def test_burnouts_connections_draw_no_progress_bar(tmp_path: Path) -> None:
    folder = write_cohort(tmp_path / "c", mbi_gs=mbi_rows(subscales=True))
    store = f"duckdb://{tmp_path / 'c.duckdb'}"
    import_cohort(folder, store)
    out = tmp_path / "out.txt"
    with open(out, "w") as fh:
        subprocess.run([sys.executable, "-c", _CONNECTIONS, str(folder), store], stdout=fh, check=True)
    enabled = json.loads(out.read_text())
    assert enabled.pop("duckdb's default") is True  # the reference: what a plain connection does here
    assert enabled == dict.fromkeys(["in-memory", "analysis-connect", "folder", "store", "read-cohort"], False)
