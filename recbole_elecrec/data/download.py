"""A dataset's atomic file made to exist: the paper's prepared, RecBole's downloaded."""

import os
import shutil
import tempfile
from pathlib import Path

import recbole
import yaml
from recbole.utils.url import download_url, extract_zip, rename_atomic_files

from recbole_elecrec.data.prepare import PAPER_DATASETS, ensure_prepared
from recbole_elecrec.files import atomic_path, check_writable_dir

RECBOLE_URLS = Path(recbole.__file__).parent / "properties" / "dataset" / "url.yaml"


def ensure_dataset(config):
    """Make the dataset's atomic file exist: a paper dataset is prepared, one of RecBole's
    downloaded, anything else refused."""
    name, data_dir = config["dataset"], Path(config["data_path"])
    if (data_dir / f"{name}.inter").is_file():
        return
    if name in PAPER_DATASETS:
        ensure_prepared(name, data_dir)
        return
    urls = yaml.safe_load(RECBOLE_URLS.read_text()) or {}
    if name not in urls:
        raise ValueError(
            f"unknown dataset '{name}': {data_dir / (name + '.inter')} does not exist "
            f"(paper datasets: {', '.join(PAPER_DATASETS)}; or RecBole's ml-100k)"
        )
    download_dataset(name, urls[name], data_dir)


def download_dataset(name, url, data_dir):
    """RecBole's dataset ``name`` into ``data_dir``, whole or not at all.

    Done here rather than by RecBole's dataset class, which leaves partial files and a traceback
    when the download fails.
    """
    check_writable_dir(data_dir, "data_path")
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as workdir:
        try:
            archive = download_url(url, workdir)
            extract_zip(archive, workdir)
            os.unlink(archive)
            rename_atomic_files(workdir, Path(archive).stem, name)
        except Exception as error:  # urllib, http.client and zipfile raise many kinds
            raise ValueError(
                f"could not download dataset '{name}' from {url} "
                f"({getattr(error, 'reason', error)}); without network, put its atomic files "
                f"({name}.inter, ...) into {data_dir}"
            ) from None
        data_dir.mkdir(parents=True, exist_ok=True)
        # the .inter file last: its presence means the dataset is complete
        for file in sorted(Path(workdir).iterdir(), key=lambda f: f.suffix == ".inter"):
            with atomic_path(data_dir / file.name) as partial:
                shutil.copyfile(file, partial)
