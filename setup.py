from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="recbole-elecrec",
    version="0.1.0",
    description="ELECRec (SIGIR 2022): training sequential recommenders as discriminators, in RecBole",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["LICENSE"],  # shipped in the wheel
    python_requires=">=3.9",
    # the repository's properties/ goes into the package as recbole_elecrec/properties/
    packages=find_packages(include=["recbole_elecrec", "recbole_elecrec.*"])
    + ["recbole_elecrec.properties"],
    package_dir={"recbole_elecrec.properties": "properties"},
    package_data={"recbole_elecrec.properties": ["*.yaml", "*/*.yaml"]},
    install_requires=[
        "recbole==1.2.1",
        "torch>=2.5",  # torch.serialization.safe_globals, get_unsafe_globals_in_checkpoint
        # RecBole 1.2.1 reads numpy aliases removed in numpy 2 (Config.compatibility_settings),
        # relies on pandas' inplace fillna (no-op under pandas 3), and its quick_start imports ray,
        # which needs pkg_resources (gone from setuptools 81).
        "numpy<2",
        "pandas<3",
        "setuptools<81",
        "pyyaml",
        "matplotlib",  # benchmark plots
        "scipy",  # compare's paired t-test (RecBole needs it too)
        "scikit-learn",  # probe's ROC AUC (RecBole needs it too)
    ],
    extras_require={
        # RecBole's exhaustive search uses the RandomState API that hyperopt 0.2.7 dropped
        "hyper": ["hyperopt==0.2.5"],
        # Ray Tune at the Ray RecBole pins (<= 2.6.3); pyarrow 19+ needs numpy 2
        "ray": ["ray[tune]<=2.6.3", "pyarrow<19"],
        "test": ["pytest", "hyperopt==0.2.5", "ray[tune]<=2.6.3", "pyarrow<19"],
    },
)
