"""Bad-input cases (checkpoints: their settings, token maps, compare/probe/recommend): rows for tests/test_bad_inputs.py's table."""

import os
import pickle

import torch

from conftest import small_settings

BEST = "{best}"
NO_CONFIG = "holds no saved config"
OTHER_IDS = "ids differ from those the model was trained with"
# the settings of the tiny run that made state.pth, as --key=value (resuming needs the same)
SMALL = [f"--{key}={value}" for key, value in small_settings("").items() if key != "data_path"]

RUNS_CODE = "could run code"
# the commands that read a checkpoint: (command, arguments naming the file)
READERS = {
    "run-eval": lambda f: ["--eval_only", f"--checkpoint={f}"],
    "run-resume": lambda f: [*SMALL, "--dataset=tiny", f"--training_state={f}"],
    "recommend": lambda f: [f"--checkpoint={f}", "--items=1"],
    "probe": lambda f: [f],
    "compare": lambda f: [BEST, f],
}


class RunsCode:
    """Unpickled, it runs a command: ``touch marker`` in the working directory."""

    def __reduce__(self):
        return os.system, ("touch marker",)


class CallsConfig:
    """Unpickled, it calls a Config: RecBole's with a string it would eval(), or this
    package's with a config file to read (here ``secret.yaml``)."""

    def __init__(self, who):
        self.who = who

    def __reduce__(self):
        if self.who == "recbole":
            from recbole.config import Config
            return Config, ("BPR", "ml-100k", None,
                            {"epochs": "__import__('os').system('touch marker')"})
        from recbole_elecrec.config import Config
        return Config, ("BPR", "ml-100k", ["secret.yaml"])


# (id, command, arguments, words the error line holds); "{best}" is a tiny ELECRec run's best model
CASES = [
    ("ckpt-bare-compare", "compare", ["ckpt_bare.pth", BEST], ["ckpt_bare.pth", NO_CONFIG]),
    ("ckpt-none-compare", "compare", [BEST, "ckpt_none.pth"], ["ckpt_none.pth", NO_CONFIG]),
    ("ckpt-bare-probe", "probe", ["ckpt_bare.pth"], ["ckpt_bare.pth", NO_CONFIG]),
    ("ckpt-none-probe", "probe", ["ckpt_none.pth"], ["ckpt_none.pth", NO_CONFIG]),
    ("ckpt-bare-recommend", "recommend", ["--checkpoint=ckpt_bare.pth", "--items=1"],
     ["ckpt_bare.pth", NO_CONFIG]),
    ("ckpt-none-recommend", "recommend", ["--checkpoint=ckpt_none.pth", "--items=1"],
     ["ckpt_none.pth", NO_CONFIG]),
    ("ckpt-bare-eval", "run", ["--eval_only", "--checkpoint=ckpt_bare.pth"],
     ["ckpt_bare.pth", NO_CONFIG]),
    ("ckpt-none-training-state", "run",
     ["--dataset=tiny", "--training_state=ckpt_none_state.pth"],
     ["ckpt_none_state.pth", NO_CONFIG]),
    # trained on the same dataset under another token-to-id mapping (its file reordered since)
    ("ckpt-other-ids-eval", "run", ["--eval_only", "--checkpoint=ckpt_other_ids.pth"],
     ["ckpt_other_ids.pth", "item", OTHER_IDS]),
    ("ckpt-other-ids-recommend", "recommend", ["--checkpoint=ckpt_other_ids.pth", "--items=1"],
     ["ckpt_other_ids.pth", "item", OTHER_IDS]),
    ("ckpt-other-ids-probe", "probe", ["ckpt_other_ids.pth"],
     ["ckpt_other_ids.pth", "item", OTHER_IDS]),
    ("ckpt-other-ids-compare", "compare", [BEST, "ckpt_other_ids.pth"],
     ["ckpt_other_ids.pth", "item", OTHER_IDS]),
    ("ckpt-other-ids-resume", "run",
     [*SMALL, "--dataset=tiny", "--training_state=ckpt_other_ids.pth"],
     ["ckpt_other_ids.pth", "item", OTHER_IDS]),
    # a pickle calling RecBole's Config, which eval()s strings of its config_dict, or this
    # package's, which reads any file config_file_list names (every protocol, every reader)
    *[(f"ckpt-calls-{who}-{protocol}-{command}", command.partition("-")[0],
       [*args(f"calls_{who}_{protocol}.pth")], [f"calls_{who}_{protocol}.pth", RUNS_CODE])
      for who in ("recbole", "own") for protocol in (2, 4)
      for command, args in READERS.items()],
    # a training state naming another file as its best model: a resumed run writes nothing there
    ("ckpt-state-names-a-file", "run",
     [*SMALL, "--dataset=tiny", "--training_state=state_names_a_file.pth"],
     ["state_names_a_file.pth", "names its best model", "victim.txt"]),
    ("ckpt-state-names-a-path", "run",
     [*SMALL, "--dataset=tiny", "--training_state=state_names_a_path.pth"],
     ["state_names_a_path.pth", "best model", "is gone"]),
    # a saved config naming RecBole's pickles, or a dataset by a path
    ("ckpt-config-dataloaders", "run", ["--eval_only", "--checkpoint=config_pickles.pth"],
     ["config_pickles.pth", "dataloaders_save_path is not supported"]),
    ("ckpt-config-dataset-path", "recommend", ["--checkpoint=config_path.pth", "--items=1"],
     ["config_path.pth", "dataset must be a name", "../elsewhere/tiny"]),
    # RecBole's own pickles of datasets and loaders: never written, never read
    ("pickle-save-dataset", "run", ["--dataset=tiny", "--save_dataset=True"],
     ["save_dataset is not supported"]),
    ("pickle-loaders-path", "run", ["--dataset=tiny", "--dataloaders_save_path=loaders.pth"],
     ["dataloaders_save_path is not supported"]),
    ("pickle-received-loaders", "run", ["--dataset=tiny", "--checkpoint_dir=received_loaders"],
     ["tiny-for-ELECRec-dataloader.pth", "remove it"]),
    ("pickle-received-dataset", "run",
     ["--model=BPR", "--dataset=tiny", "--checkpoint_dir=received_dataset"],
     ["tiny-Dataset.pth", "remove it"]),
    ("dataset-a-path", "run", ["--dataset=../tiny"], ["dataset must be a name", "'../tiny'"]),
    # trained, its checkpoint could not be read back (a scipy matrix): refused before training
    ("model-unsaveable", "run", ["--model=ItemKNN", "--dataset=tiny"],
     ["ItemKNN", "scipy", "not supported"]),
]


def lay_out(cwd):
    """The files these cases name, in the case's working directory (state.pth is there: the
    training state of the tiny run whose best model is "{best}")."""
    torch.save({"state_dict": {}}, cwd / "ckpt_bare.pth")
    torch.save({"state_dict": {}, "config": None}, cwd / "ckpt_none.pth")
    made = torch.load(cwd / "state.pth", weights_only=True)
    # continued here: its best model kept in this folder's saved/, as the cases' runs keep theirs
    state = {**made, "config": {**made["config"], "checkpoint_dir": "saved"}}
    other_ids = {"item": "0" * 64, "user": state["token_fingerprint"]["user"]}
    torch.save({**state, "token_fingerprint": other_ids}, cwd / "ckpt_other_ids.pth")
    torch.save({**state, "config": None}, cwd / "ckpt_none_state.pth")
    (cwd / "secret.yaml").write_text("password: hunter2\n")
    for folder, name in (("received_loaders", "tiny-for-ELECRec-dataloader.pth"),
                         ("received_dataset", "tiny-Dataset.pth")):
        (cwd / folder).mkdir()
        with open(cwd / folder / name, "wb") as file:
            pickle.dump(RunsCode(), file)
    for who in ("recbole", "own"):
        for protocol in (2, 4):
            torch.save({**state, "config": CallsConfig(who)}, cwd / f"calls_{who}_{protocol}.pth",
                       pickle_protocol=protocol)
    (cwd / "victim").mkdir()
    (cwd / "victim" / "victim.txt").write_text("the user's own file\n")
    torch.save({**state, "best_model_file": str(cwd / "victim" / "victim.txt")},
               cwd / "state_names_a_file.pth")
    (cwd / "victim" / state["best_model_file"]).write_text("the user's own file\n")
    torch.save({**state, "best_model_file": str(cwd / "victim" / state["best_model_file"])},
               cwd / "state_names_a_path.pth")
    torch.save({**state, "config": {**state["config"], "dataloaders_save_path": "x.pth"}},
               cwd / "config_pickles.pth")
    torch.save({**state, "config": {**state["config"], "dataset": "../elsewhere/tiny"}},
               cwd / "config_path.pth")
