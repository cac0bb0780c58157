"""Reading and writing: ``files`` (atomic writes, digests), ``tables`` (CSV/Parquet), ``images`` (image folders and
npz). The file and table helpers are re-exported here; image I/O is imported from ``synthgen.io.images``."""
from .files import atomic_directory, atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_file
from .tables import TABLE_SUFFIXES, read_table, write_table

__all__ = ["TABLE_SUFFIXES", "atomic_directory", "atomic_path", "atomic_write_bytes", "atomic_write_json",
           "atomic_write_text", "read_table", "sha256_file", "write_table"]
