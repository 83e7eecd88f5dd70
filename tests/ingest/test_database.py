"""Load stage, database sources (ingest/database.py): tables read with row numbers and checked by
the same rules as files.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from burnout.errors import DataError
from burnout.ingest import load_cohort
from cohortfactory import patients_rows, write_cohort


@pytest.mark.postgres
def test_control_character_in_a_database_pathway_is_a_problem(tmp_path: Path, postgres_db: str) -> None:
    import gc

    import ibis

    folder = write_cohort(tmp_path, fmt="parquet")
    pg = ibis.connect(postgres_db)
    for name in ("patients", "mbi_gs", "sessions"):
        pg.create_table(name, pq.read_table(folder / f"{name}.parquet"))
    rows = patients_rows()
    rows[3]["pathway"] = "burn\x07out"  # PostgreSQL text cannot hold NUL; BEL it can
    pg.create_table("patients", pa.Table.from_pylist(rows), overwrite=True)
    with pytest.raises(DataError) as info:
        load_cohort(postgres_db)
    assert [(p.file, p.patient_id, p.column, p.value) for p in info.value.problems] == [
        ("patients", "P04", "pathway", "burn\x07out")
    ]
    del info, pg
    gc.collect()
