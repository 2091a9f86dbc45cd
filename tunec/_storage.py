"""Remote storage for syncing: a directory tree at a URI (``file://``,
``s3://``, ``gs://``, ``hdfs://``...) reached through pyarrow.fs when it is
installed, else through fsspec. Owns nothing but the connection: what to
sync and when is tunec/syncer.py's business.

S3-compatible servers other than AWS are reached as Ray does it, with query
parameters on the URI (``s3://bucket/path?endpoint_override=127.0.0.1:9000&
scheme=http``) or the usual AWS environment variables.
"""
import os


def is_uri(path):
    return isinstance(path, str) and "://" in path


def join(uri, *parts):
    """``uri`` with path parts appended before any query string."""
    import urllib.parse
    parsed = urllib.parse.urlsplit(uri)
    path = parsed.path.rstrip("/")
    for part in parts:
        path = path + "/" + part.strip("/")
    return urllib.parse.urlunsplit(parsed._replace(path=path))


def open_storage(uri):
    """The Storage for ``uri``; ImportError/ValueError name the URI when
    neither library can reach it."""
    if not is_uri(uri):
        raise ValueError("not a URI: {!r}".format(uri))
    import urllib.parse
    if uri.startswith("file://"):
        return _LocalStorage(urllib.parse.urlsplit(uri).path)
    errors = []
    try:
        import pyarrow.fs
    except ImportError:
        pass
    else:
        try:
            fs, path = pyarrow.fs.FileSystem.from_uri(uri)
            return _ArrowStorage(fs, path)
        except Exception as exc:   # noqa: B902 - pyarrow raises several kinds
            errors.append("pyarrow: {}".format(exc))
    try:
        import fsspec.core
    except ImportError:
        pass
    else:
        try:
            fs, path = fsspec.core.url_to_fs(uri)
            return _FsspecStorage(fs, path)
        except Exception as exc:   # noqa: B902
            errors.append("fsspec: {}".format(exc))
    if not errors:
        raise ImportError("syncing to {!r} needs pyarrow or fsspec installed "
                          "(pip install pyarrow)".format(uri))
    raise ValueError("cannot open storage {!r}: {}".format(uri, "; ".join(errors)))


class _Storage:
    """A tree rooted at ``self.root``; paths given to methods are relative
    ('/'-separated)."""

    def upload(self, local_path, rel):
        raise NotImplementedError

    def download_tree(self, local_dir):
        """Copies the whole remote tree into ``local_dir`` (which exists).
        Returns the number of files copied."""
        raise NotImplementedError

    def exists(self, rel=""):
        raise NotImplementedError

    def delete_tree(self):
        raise NotImplementedError


class _LocalStorage(_Storage):
    def __init__(self, root):
        self.root = root

    def _path(self, rel):
        return os.path.join(self.root, *[p for p in rel.split("/") if p])

    def upload(self, local_path, rel):
        target = self._path(rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = "{}.tmp.{}".format(target, os.getpid())
        import shutil
        shutil.copyfile(local_path, tmp)
        os.replace(tmp, target)     # a reader never sees half a file

    def download_tree(self, local_dir):
        import shutil
        count = 0
        for dirpath, _, files in os.walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root)
            os.makedirs(os.path.join(local_dir, rel_dir), exist_ok=True)
            for name in files:
                shutil.copy2(os.path.join(dirpath, name), os.path.join(local_dir, rel_dir, name))
                count += 1
        return count

    def exists(self, rel=""):
        return os.path.exists(self._path(rel))

    def delete_tree(self):
        import shutil
        shutil.rmtree(self.root, ignore_errors=True)


class _ArrowStorage(_Storage):
    def __init__(self, fs, root):
        self.fs = fs
        self.root = root.rstrip("/")

    def _path(self, rel):
        return self.root + "/" + rel.strip("/") if rel else self.root

    def upload(self, local_path, rel):
        target = self._path(rel)
        self.fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
        import shutil
        with open(local_path, "rb") as src, self.fs.open_output_stream(target) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)

    def download_tree(self, local_dir):
        import shutil
        import pyarrow.fs
        count = 0
        selector = pyarrow.fs.FileSelector(self.root, recursive=True)
        for info in self.fs.get_file_info(selector):
            if info.type != pyarrow.fs.FileType.File:
                continue
            rel = info.path[len(self.root):].lstrip("/")
            local = os.path.join(local_dir, *rel.split("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with self.fs.open_input_stream(info.path) as src, open(local, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            count += 1
        return count

    def exists(self, rel=""):
        import pyarrow.fs
        return self.fs.get_file_info(self._path(rel)).type != pyarrow.fs.FileType.NotFound

    def delete_tree(self):
        self.fs.delete_dir(self.root)


class _FsspecStorage(_Storage):
    def __init__(self, fs, root):
        self.fs = fs
        self.root = root.rstrip("/")

    def _path(self, rel):
        return self.root + "/" + rel.strip("/") if rel else self.root

    def upload(self, local_path, rel):
        self.fs.put_file(local_path, self._path(rel))

    def download_tree(self, local_dir):
        count = 0
        for path in self.fs.find(self.root):
            rel = path[len(self.root):].lstrip("/")
            local = os.path.join(local_dir, *rel.split("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            self.fs.get_file(path, local)
            count += 1
        return count

    def exists(self, rel=""):
        return self.fs.exists(self._path(rel))

    def delete_tree(self):
        self.fs.rm(self.root, recursive=True)
