from pathlib import Path

from setuptools import find_packages, setup

HYPEROPT = ["hyperopt==0.2.5", "setuptools<81"]
RAY = [
    'ray[tune]>=2.6.3; python_version < "3.12"',
    'ray[tune]>=2.31; python_version == "3.12"',
    'ray[tune]>=2.45; python_version >= "3.13"',
]

setup(
    name="recbole-elecrec",
    version="0.1.0",
    description="ELECRec (SIGIR 2022): training sequential recommenders as discriminators, in RecBole",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["LICENSE"],  # shipped in the wheel
    python_requires=">=3.10",
    # the repository's properties/ goes into the package as recbole_elecrec/properties/
    packages=find_packages(include=["recbole_elecrec", "recbole_elecrec.*"])
    + ["recbole_elecrec.properties"],
    package_dir={"recbole_elecrec.properties": "properties"},
    package_data={"recbole_elecrec.properties": ["*.yaml", "*/*.yaml"]},
    # RecBole 1.2.1 is installed apart, without its dependency list (`pip install --no-deps
    # recbole==1.2.1`, as the Makefile does): that list pins ray<=2.6.3, which has no wheels past
    # Python 3.11 and which only recbole.quick_start imports (this package does not). The rest of
    # RecBole's list is declared here; importing this package without RecBole says what to run.
    install_requires=[
        "torch>=2.5",  # torch.serialization.safe_globals, get_unsafe_globals_in_checkpoint
        "numpy>=1.21",
        "pandas>=1.3",
        "pyyaml>=5.1",
        "matplotlib",  # benchmark plots
        "scipy>=1.6",  # compare's paired t-test
        "scikit-learn>=0.23.2",  # probe's ROC AUC
        # RecBole 1.2.1's own dependencies, but ray
        "tqdm>=4.60",  # RecBole asks 4.48.2; the reader's bar uses delay=
        "colorlog==4.7.2",
        "colorama==0.4.4",
        "tensorboard>=2.5",
        "thop>=0.1.1.post2207130030",
        "tabulate>=0.8.10",
        "plotly>=4.0",
        "texttable>=0.9",
        "psutil>=5.9",
    ],
    extras_require={
        # RecBole's exhaustive search uses the RandomState API that hyperopt 0.2.7 dropped;
        # hyperopt 0.2.5 imports pkg_resources, gone from setuptools 81
        "hyper": HYPEROPT,
        # Ray Tune: the first releases with wheels for each Python, and anything newer
        "ray": RAY,
        "test": ["pytest", *HYPEROPT, *RAY],
    },
)
