"""Bad-input cases (checkpoints: their settings, token maps, compare/probe/recommend): rows for tests/test_bad_inputs.py's table."""

import torch

from conftest import small_settings

BEST = "{best}"
NO_CONFIG = "holds no saved config"
OTHER_IDS = "ids differ from those the model was trained with"
# the settings of the tiny run that made state.pth, as --key=value (resuming needs the same)
SMALL = [f"--{key}={value}" for key, value in small_settings("").items() if key != "data_path"]

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
]


def lay_out(cwd):
    """The files these cases name, in the case's working directory (state.pth is there: the
    training state of the tiny run whose best model is "{best}")."""
    torch.save({"state_dict": {}}, cwd / "ckpt_bare.pth")
    torch.save({"state_dict": {}, "config": None}, cwd / "ckpt_none.pth")
    state = torch.load(cwd / "state.pth", weights_only=False)
    state["token_fingerprint"] = {"item": "0" * 64, "user": state["token_fingerprint"]["user"]}
    torch.save(state, cwd / "ckpt_other_ids.pth")
    torch.save({**state, "config": None}, cwd / "ckpt_none_state.pth")
