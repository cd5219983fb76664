"""Data items and artifact bodies over fsspec: local paths, memory://, http(s)://, s3:// and store://.

Importing this package is cheap: fsspec, s3fs and pandas are imported only when first used.
"""

from trackrun.datastore.dataitem import DataItem, FileStat, get_dataitem, upload_file, write_bytes
from trackrun.datastore.paths import check_within, join_url, normalize_url, split_scheme
from trackrun.datastore.store_uri import StoreRef, parse_store_uri, store_uri

__all__ = [
    "DataItem",
    "FileStat",
    "StoreRef",
    "check_within",
    "get_dataitem",
    "join_url",
    "normalize_url",
    "parse_store_uri",
    "split_scheme",
    "store_uri",
    "upload_file",
    "write_bytes",
]
