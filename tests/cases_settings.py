"""Bad-input cases (settings, hyper params files, paths, result files): rows for tests/test_bad_inputs.py's table."""

# a params file's cases name it; the dataset is never read
HYPER = ["--model=ELECRec", "--dataset=tiny"]

# (id, command, arguments, words the error line holds); "{best}" is a tiny ELECRec run's best model
CASES = [
    # a misspelt setting, which RecBole ignores
    ("settings-misspelt-argument", "run", ["--leraning_rate=0.5"],
     ["unknown setting 'leraning_rate'", "did you mean 'learning_rate'?"]),
    ("settings-misspelt-in-config-file", "run", ["--config_files=settings_misspelt.yaml"],
     ["unknown setting 'stoping_step'", "did you mean 'stopping_step'?"]),
    ("settings-duplicate-key", "run", ["--config_files=settings_duplicate.yaml"],
     ["config_files", "settings_duplicate.yaml", "key 'epochs' is given twice", "lines 1 and 3"]),
    ("settings-duplicate-nested-key", "run", ["--config_files=settings_duplicate_nested.yaml"],
     ["settings_duplicate_nested.yaml", "key 'order' is given twice", "lines 2 and 4"]),
    ("settings-python-tag", "run", ["--config_files=settings_python_tag.yaml"],
     ["settings_python_tag.yaml", "line 1 has the tag !!python/complex"]),
    # ranges
    ("settings-stopping-step", "run", ["--stopping_step=-5"], ["stopping_step must be >= 0"]),
    ("settings-eval-step", "run", ["--eval_step=0"], ["eval_step must be positive"]),
    ("settings-dis-loss-weight", "run", ["--dis_loss_weight=-1"],
     ["dis_loss_weight must be >= 0"]),
    ("settings-gen-loss-weight", "run", ["--gen_loss_weight=-0.5"],
     ["gen_loss_weight must be >= 0"]),
    ("settings-dropout-one", "run", ["--gen_hidden_dropout_prob=1"],
     ["gen_hidden_dropout_prob must be in [0, 1)"]),
    ("settings-dropout-negative", "run", ["--dis_attn_dropout_prob=-0.1"],
     ["dis_attn_dropout_prob must be in [0, 1)"]),
    ("settings-heads-zero", "run", ["--gen_n_heads=0"], ["gen_n_heads must be positive"]),
    ("settings-size-fraction", "run", ["--dis_inner_size=1.5"],
     ["dis_inner_size must be an integer"]),
    ("settings-initializer-range", "run", ["--dis_initializer_range=0"],
     ["dis_initializer_range must be positive"]),
    ("settings-layer-norm-eps", "run", ["--layer_norm_eps=-1e-12"],
     ["layer_norm_eps must be positive"]),
    ("settings-warmup-epochs", "run", ["--gen_warmup_epochs=-1"],
     ["gen_warmup_epochs must be >= 0"]),
    ("settings-worker", "run", ["--worker=-1"], ["worker must be >= 0"]),
    ("settings-baseline-dropout", "run", ["--model=SASRec", "--hidden_dropout_prob=1.5"],
     ["hidden_dropout_prob must be in [0, 1)"]),
    ("settings-baseline-dropout-text", "run", ["--model=SASRec", "--dropout_prob=abc"],
     ["dropout_prob must be a finite number", "abc"]),
    ("settings-path-not-a-path", "run", ["--config_files=settings_path.yaml"],
     ["checkpoint_dir must be a path", "True"]),
    # params files of run_hyper.py
    ("settings-hyper-no-values", "hyper", [*HYPER, "--params_file=settings_no_values.hyper"],
     ["params_file", "settings_no_values.hyper, line 2", "NAME TYPE VALUES",
      "'learning_rate choice'"]),
    ("settings-hyper-bad-list", "hyper", [*HYPER, "--params_file=settings_bad_list.hyper"],
     ["settings_bad_list.hyper, line 1", "choice needs a list"]),
    ("settings-hyper-misspelt", "hyper", [*HYPER, "--params_file=settings_misspelt.hyper"],
     ["settings_misspelt.hyper, line 1", "did you mean 'learning_rate'?"]),
    ("settings-hyper-twice", "hyper", [*HYPER, "--params_file=settings_twice.hyper"],
     ["settings_twice.hyper, line 3", "sample_ratio is searched twice (line 1 too)"]),
    ("settings-hyper-bad-option", "hyper", [*HYPER, "--params_file=settings_bad_option.hyper"],
     ["settings_bad_option.hyper, line 2", "dis_loss_weight -1: dis_loss_weight must be >= 0"]),
    ("settings-hyper-bad-bound", "hyper", [*HYPER, "--params_file=settings_bad_bound.hyper"],
     ["settings_bad_bound.hyper, line 1", "sample_ratio 1.5: sample_ratio must be in [0, 1]"]),
    ("settings-hyper-nothing", "hyper", [*HYPER, "--params_file=settings_nothing.hyper"],
     ["settings_nothing.hyper names no setting to search"]),
    ("settings-hyper-missing", "hyper", [*HYPER, "--params_file=settings_missing.hyper"],
     ["params_file", "cannot read settings_missing.hyper"]),
    ("settings-hyper-misspelt-argument", "hyper",
     [*HYPER, "--params_file=settings_good.hyper", "--leraning_rate=0.5"],
     ["did you mean 'learning_rate'?"]),
    ("settings-hyper-searched-and-fixed", "hyper",
     [*HYPER, "--params_file=settings_good.hyper", "--sample_ratio=0.5"],
     ["settings_good.hyper, line 1", "sample_ratio is searched and also fixed as --sample_ratio"]),
    ("settings-hyper-not-key-value", "hyper",
     [*HYPER, "--params_file=settings_good.hyper", "--epochs", "5"],
     ["unrecognized argument '--epochs'", "--key=value"]),
    ("settings-hyper-output-file", "hyper",
     [*HYPER, "--params_file=settings_good.hyper", "--output_file=/proc/x/out.result"],
     ["output_file", "/proc/x"]),
]


def lay_out(cwd):
    """The files these cases name, in the case's working directory."""
    files = {
        "settings_misspelt.yaml": "epochs: 1\nstoping_step: 3\n",
        "settings_duplicate.yaml": "epochs: 1\nseed: 3\nepochs: 2\n",
        "settings_path.yaml": "checkpoint_dir: yes\n",
        "settings_duplicate_nested.yaml": "eval_args:\n  order: TO\n  mode: full\n  order: RO\n",
        "settings_python_tag.yaml": "seed: !!python/complex 1+2j\n",
        # the values of a choice may hold spaces (line 1); a line without them is an error
        "settings_no_values.hyper": "sample_ratio choice [0.3, 0.6]\nlearning_rate choice\n",
        "settings_bad_list.hyper": "learning_rate choice [0.1, oops]\n",
        "settings_misspelt.hyper": "leraning_rate choice [0.1, 0.2]\n",
        "settings_twice.hyper": "sample_ratio choice [0.3]\n\nsample_ratio uniform 0.1,0.2\n",
        "settings_bad_option.hyper":
            "sample_ratio choice [0.3]\ndis_loss_weight choice [0.5, -1]\n",
        "settings_bad_bound.hyper": "sample_ratio uniform 0.5,1.5\n",
        "settings_nothing.hyper": "# nothing to search yet\n\n",
        "settings_good.hyper": "sample_ratio choice [0.3, 0.6]\n",
    }
    for name, text in files.items():
        (cwd / name).write_text(text)
