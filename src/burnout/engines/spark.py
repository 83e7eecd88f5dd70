"""A Spark session for the relational stage (``burnout analyze --backend spark``).

Spark runs the same Ibis expressions as DuckDB. The session is configured so that
results do not depend on where it runs: UTC session time zone, ANSI SQL semantics
(an overflow or a bad cast fails the query instead of giving a wrong number), Arrow
for the few aggregate rows that come back, no web UI and quiet logs.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from burnout.errors import BurnoutError, first_line, redact_url

if TYPE_CHECKING:
    import ibis

__all__ = ["SPARK_CONF", "spark_available", "spark_connect"]

DEFAULT_MASTER = "local[*]"

# Settings applied to every session burnout creates or joins.
SPARK_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.shuffle.partitions": "16",
}

# Settings that only take effect when the JVM starts (a new session).
_STARTUP_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# ... and for a local master only (executors of a cluster must reach the driver).
_LOCAL_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


def _fix_string_escapes() -> None:
    """Make Ibis write control characters in Spark SQL string literals as ``\\uXXXX``.

    sqlglot writes vertical tab and form feed as ``\\v`` and ``\\f``, escapes Spark SQL
    does not know: Spark reads them as the letters ``v`` and ``f``. Ibis's ``strip()``
    trims ``string.whitespace``, so on Spark ``"false".strip()`` became ``"alse"``.
    Spark understands ``\\uXXXX`` in string literals, so those characters are written
    that way. Only Ibis's PySpark dialect is changed.
    """
    from ibis.backends.sql.dialects import PySpark

    fixed = {"\x07": "\\u0007", "\x0b": "\\u000B", "\x0c": "\\u000C"}
    if any(PySpark.ESCAPED_SEQUENCES.get(k) != v for k, v in fixed.items()):
        PySpark.ESCAPED_SEQUENCES = {**PySpark.ESCAPED_SEQUENCES, **fixed}


def _quiet_codegen_fallback(session: object) -> None:
    """Silence the code generator's "failed to compile" error.

    The widest expressions (the parse of 16 item columns, the patient table) exceed
    the JVM's 64 KB method limit; Spark then logs a long stack trace at ERROR level
    and falls back to interpreted evaluation, with the same results. Only that
    logger is silenced; real failures still raise in Python.
    """
    try:
        jvm = session._jvm  # type: ignore[attr-defined]  # py4j gateway attribute, not in pyspark's stubs
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator", jvm.org.apache.logging.log4j.Level.FATAL
        )
    except Exception:  # noqa: BLE001 - a logging nicety must never stop the analysis
        pass


def spark_available() -> str | None:
    """None when a local Spark session can start; otherwise the reason it cannot."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: pip install 'burnout[spark]' (pyspark 4.0)"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "Spark needs Java 17 or newer: install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    return None


def spark_connect(master: str | None = None) -> ibis.BaseBackend:
    """An Ibis backend on a Spark session: the active one, or a new one on ``master``.

    Parameters
    ----------
    master : str, optional
        Spark master URL, e.g. ``"spark://host:7077"``; default ``local[*]`` (all
        cores of this machine). Ignored when a Spark session is already active in this
        process (it is reused, with burnout's SQL settings applied).

    Raises
    ------
    BurnoutError
        pyspark or Java is missing, or the session cannot start.
    """
    reason = spark_available()
    if reason is not None:
        raise BurnoutError(f"cannot use the spark backend: {reason}")
    import ibis
    from pyspark.sql import SparkSession

    _fix_string_escapes()
    session = SparkSession.getActiveSession()
    if session is None:
        local = (master or DEFAULT_MASTER).startswith("local")
        if local:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no "hostname resolves to loopback" warning
        builder = SparkSession.builder.master(master or DEFAULT_MASTER).appName("burnout")
        for key, value in {**_STARTUP_CONF, **(_LOCAL_CONF if local else {}), **SPARK_CONF}.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM failed to start: say why, briefly
            raise BurnoutError(
                f"cannot start Spark on master {redact_url(master or DEFAULT_MASTER)!r}: {first_line(exc)}; "
                "check JAVA_HOME and the master URL"
            ) from exc
        session.sparkContext.setLogLevel("ERROR")
        _quiet_codegen_fallback(session)
    return ibis.pyspark.connect(session, **SPARK_CONF)
