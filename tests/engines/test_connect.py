"""The DuckDB connections burnout makes for its own work (engines/connect.py).

In interactive Python (a REPL, a notebook, ``python -c``) DuckDB turns its progress bar on
by default and draws it on standard output for any query over two seconds, amid burnout's
own progress. Found running ``burnout.cli.main()`` under ``python -c`` on a store of 1M
patients whose plan differs from the import's (its tables are validated again). The
connections are therefore made in a ``python -c`` child with its output in a file; under
pytest the default is off anyway.
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
