"""custinfo: collect, clean, deduplicate and protect customer records from many channels."""
__version__ = "0.1.0"
