"""custinfo: collect, clean, deduplicate and protect customer records from many channels.

The command line is a thin layer over these functions::

    import custinfo
    custinfo.ingest(["web.csv"], store="custinfo_store", channel="web_form")
    custinfo.report("summary", store="custinfo_store").to_dict()
    custinfo.export("customers", store="custinfo_store")
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "ingest", "report", "export", "Store"]


def __getattr__(name: str):  # lazy: `import custinfo` stays fast for the CLI
    if name == "ingest":
        from .ingest.pipeline import ingest
        return ingest
    if name == "Store":
        from .store.store import Store
        return Store
    if name == "report":
        from .report import build_report
        return build_report
    if name == "export":
        from .report.api import export
        return export
    raise AttributeError(name)
